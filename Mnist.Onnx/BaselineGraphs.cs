using Mnist.Baselines.Gbdt;
using Mnist.Baselines.KernelSvm;
using Mnist.Baselines.Knn;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using static Mnist.Onnx.GraphBuilder;

namespace Mnist.Onnx;

/// <summary>The classical baselines as ONNX operators; each returns the value the model's softmax is taken of.</summary>
internal static class BaselineGraphs
{
    private const int Classes = DigitDataView.ClassCount;

    /// <summary>Logistic regression and linear SVM: scores = X·W + b (W pixels × 10).</summary>
    public static string LinearScores(GraphBuilder g, string pixels, float[] weights, float[] bias) =>
        g.Node("Gemm", [pixels, g.Floats("linear_w", weights, weights.Length / Classes, Classes), g.Floats("linear_b", bias, Classes)]);

    /// <summary>
    /// Gradient-boosted trees: the pixels binned as our trees see them (round(p·255), half to even, clamped to
    /// 0..255) into one ai.onnx.ml TreeEnsembleRegressor whose tree t adds to class t mod 10, plus the base scores.
    /// </summary>
    public static string GbdtScores(GraphBuilder g, string pixels, GbdtModel model)
    {
        string bins = g.Node("Clip", [g.Node("Round", [g.Node("Mul", [pixels, g.Scalar("byte_scale", 255f)])]), g.Scalar("bin_min", 0f), g.Scalar("bin_max", 255f)]);
        var treeIds = new List<long>();
        var nodeIds = new List<long>();
        var features = new List<long>();
        var values = new List<float>();
        var modes = new List<string>();
        var trueIds = new List<long>();
        var falseIds = new List<long>();
        var targetTrees = new List<long>();
        var targetNodes = new List<long>();
        var targetClasses = new List<long>();
        var targetWeights = new List<float>();
        // Node ids: internal node k is k, leaf l is InternalCount + l (our child index c < 0 is leaf ~c).
        for (int t = 0; t < model.Trees.Length; t++)
        {
            var tree = model.Trees[t];
            int n = tree.InternalCount;
            long Id(int child) => child >= 0 ? child : n + ~child;
            for (int k = 0; k < n; k++)
            {
                treeIds.Add(t); nodeIds.Add(k); features.Add(tree.Feature[k]); values.Add(tree.Threshold[k]);
                modes.Add("BRANCH_LEQ"); trueIds.Add(Id(tree.Left[k])); falseIds.Add(Id(tree.Right[k]));
            }
            for (int l = 0; l < tree.LeafCount; l++)
            {
                treeIds.Add(t); nodeIds.Add(n + l); features.Add(0); values.Add(0f);
                modes.Add("LEAF"); trueIds.Add(0); falseIds.Add(0);
                targetTrees.Add(t); targetNodes.Add(n + l); targetClasses.Add(t % Classes); targetWeights.Add(tree.LeafValues[l]);
            }
        }
        return g.MlNode("TreeEnsembleRegressor", [bins], null,
            Int("n_targets", Classes), String("aggregate_function", "SUM"), String("post_transform", "NONE"),
            Floats("base_values", model.BaseScores),
            Ints("nodes_treeids", treeIds), Ints("nodes_nodeids", nodeIds), Ints("nodes_featureids", features),
            Floats("nodes_values", values), Strings("nodes_modes", modes),
            Ints("nodes_truenodeids", trueIds), Ints("nodes_falsenodeids", falseIds),
            Ints("target_treeids", targetTrees), Ints("target_nodeids", targetNodes),
            Ints("target_ids", targetClasses), Floats("target_weights", targetWeights));
    }

    /// <summary>
    /// One-vs-one RBF SVM, as <see cref="KernelSvmModel.Scores"/>: K = exp(min(2γx·s − γ‖s‖² − γ‖x‖², 0)),
    /// f = K·C − ρ (45 pairs), then per class its votes (f &gt; 0 votes for a, else b) plus the squashed
    /// confidence c/(3(|c| + 1)), c = Σ ±f — the votes and confidences by two products with a pairs × classes ±1 matrix.
    /// </summary>
    public static string KernelSvmScores(GraphBuilder g, string pixels, KernelSvmModel model)
    {
        var (supportVectors, coefficients, rho) = model.Parameters;
        int s = model.SupportVectorCount, d = model.PixelCount, pairs = rho.Length;
        if (s == 0) throw new NotExportableException("the model has no support vectors");
        float gamma = (float)model.Options.Gamma;
        float[] scaledNorms = Kernels.SquaredNorms(supportVectors, s, d);
        for (int i = 0; i < s; i++) scaledNorms[i] *= gamma;

        string dot = g.Node("Gemm", [pixels, g.Floats("support_vectors", supportVectors, s, d)], null, Float("alpha", 2f * gamma), Int("transB", 1));
        string queryNorms = g.Node("ReduceSumSquare", [pixels], null, Ints("axes", [1]), Int("keepdims", 1));
        string exponent = g.Node("Sub", [g.Node("Sub", [dot, g.Floats("support_norms", scaledNorms, s)]), g.Node("Mul", [queryNorms, g.Scalar("gamma", gamma)])]);
        string kernel = g.Node("Exp", [g.Node("Min", [exponent, g.Scalar("zero", 0f)])]);
        var rhoFloat = Array.ConvertAll(rho, r => (float)r);
        string decisions = g.Node("Sub", [g.Node("MatMul", [kernel, g.Floats("dual_coefficients", coefficients, s, pairs)]), g.Floats("rho", rhoFloat, pairs)]);

        // sign[p, a] = +1 and sign[p, b] = −1 for pair p = (a, b); losers[c] = number of pairs in which c is b.
        var sign = new float[pairs * Classes];
        var losers = new float[Classes];
        for (int a = 0; a < Classes; a++)
            for (int b = a + 1; b < Classes; b++)
            {
                int p = KernelSvmModel.PairIndex(a, b);
                sign[p * Classes + a] = 1f;
                sign[p * Classes + b] = -1f;
                losers[b] += 1f;
            }
        string signs = g.Floats("pair_signs", sign, pairs, Classes);
        string wins = g.Node("Cast", [g.Node("Greater", [decisions, g.Scalar("zero", 0f)])], null, Int("to", FloatType));
        string votes = g.Node("Add", [g.Node("MatMul", [wins, signs]), g.Floats("pairs_as_b", losers, Classes)]);
        string confidence = g.Node("MatMul", [decisions, signs]);
        string squashed = g.Node("Div", [confidence, g.Node("Mul", [g.Node("Add", [g.Node("Abs", [confidence]), g.Scalar("one", 1f)]), g.Scalar("three", 3f)])]);
        return g.Node("Add", [votes, squashed]);
    }

    /// <summary>
    /// k-NN, as <see cref="KnnModel"/>: (PCA projection), squared distances max(‖x‖² + ‖r‖² − 2x·r, 0) to every
    /// stored image, TopK smallest (the smaller index first at equal distance), each neighbour's label one-hot
    /// times its weight (uniform: 1; distance: 1/√d, or only the exact matches when the nearest is at distance 0),
    /// summed per class. Returns (probabilities = votes / Σ votes, label scores: 1 + a rank bonus for the classes
    /// with the most votes, 0 otherwise, so ties go to the class of the best-ranked neighbour).
    /// </summary>
    public static (string Probabilities, string LabelScores) KnnOutputs(GraphBuilder g, string pixels, KnnModel model)
    {
        var (reference, labels) = model.Stored;
        int count = model.TrainingCount;
        int k = Math.Min(model.Options.K, count);
        string queries = pixels;
        int dims = model.PixelCount;
        if (model.Pca is { } pca)
        {
            // x·W − μ·W, as PcaProjection.Project.
            var offset = new float[pca.Components];
            for (int j = 0; j < pca.Components; j++)
            {
                float sum = 0;
                for (int i = 0; i < pca.Dimensions; i++) sum += pca.Mean[i] * pca.Basis[i * pca.Components + j];
                offset[j] = sum;
            }
            queries = g.Node("Sub", [g.Node("MatMul", [pixels, g.Floats("pca_basis", pca.Basis, pca.Dimensions, pca.Components)]), g.Floats("pca_offset", offset, pca.Components)]);
            dims = pca.Components;
        }
        float[] norms = Kernels.SquaredNorms(reference, count, dims);

        string products = g.Node("Gemm", [queries, g.Floats("reference", reference, count, dims)], null, Float("alpha", -2f), Int("transB", 1));
        string queryNorms = g.Node("ReduceSumSquare", [queries], null, Ints("axes", [1]), Int("keepdims", 1));
        string distances = g.Node("Max", [g.Node("Add", [g.Node("Add", [products, g.Floats("reference_norms", norms, count)]), queryNorms]), g.Scalar("zero", 0f)]);
        string[] top = g.NodeWithOutputs("TopK", [distances, g.Int64s("k", [k], 1)], 2, Int("axis", 1), Int("largest", 0), Int("sorted", 1));
        string neighbourLabels = g.Node("Gather", [g.Int64s("labels", Array.ConvertAll(labels, b => (long)b), count), top[1]]);
        var classes = new long[Classes];
        for (int c = 0; c < Classes; c++) classes[c] = c;
        string hits = g.Node("Cast", [g.Node("Equal", [g.Node("Unsqueeze", [neighbourLabels, g.Int64s("axis2", [2], 1)]), g.Int64s("classes", classes, Classes)])], null,
            Int("to", FloatType)); // [N, k, 10]
        string axis1 = g.Int64s("axis1", [1], 1);
        if (model.Options.Weighting == KnnOptions.Distance)
        {
            string nearest = top[0];
            string exact = g.Node("Equal", [g.Node("ReduceMin", [nearest], null, Ints("axes", [1]), Int("keepdims", 1)), g.Scalar("zero", 0f)]);
            string weights = g.Node("Where", [exact, g.Node("Cast", [g.Node("Equal", [nearest, g.Scalar("zero", 0f)])], null, Int("to", FloatType)),
                g.Node("Reciprocal", [g.Node("Sqrt", [nearest])])]);
            // Weight-0 neighbours (far ones beside an exact match) neither vote nor rank.
            hits = g.Node("Mul", [hits, g.Node("Unsqueeze", [g.Node("Cast", [g.Node("Greater", [weights, g.Scalar("zero", 0f)])], null, Int("to", FloatType)), g.Int64s("axis2", [2], 1)])]);
            string votes = g.Node("ReduceSum", [g.Node("Mul", [hits, g.Node("Unsqueeze", [weights, g.Int64s("axis2", [2], 1)])]), axis1], null, Int("keepdims", 0));
            return (g.Node("Div", [votes, g.Node("ReduceSum", [votes, axis1], null, Int("keepdims", 1))]), LabelScores(g, hits, votes, k));
        }
        string counts = g.Node("ReduceSum", [hits, axis1], null, Int("keepdims", 0));
        return (g.Node("Div", [counts, g.Scalar("k", k)]), LabelScores(g, hits, counts, k));
    }

    private const long FloatType = (long)global::Onnx.TensorProto.Types.DataType.Float;

    /// <summary>For each class: (1 + (k − r)/(k + 1)) when it has the most votes, r being the rank of its nearest neighbour; else 0.</summary>
    private static string LabelScores(GraphBuilder g, string hits, string votes, int k)
    {
        var bonus = new float[k];
        for (int r = 0; r < k; r++) bonus[r] = 1f + (float)(k - r) / (k + 1);
        string firstRank = g.Node("ReduceMax", [g.Node("Mul", [hits, g.Floats("rank_bonus", bonus, 1, k, 1)])], null, Ints("axes", [1]), Int("keepdims", 0));
        string mostVoted = g.Node("Equal", [votes, g.Node("ReduceMax", [votes], null, Ints("axes", [1]), Int("keepdims", 1))]);
        return g.Node("Mul", [g.Node("Cast", [mostVoted], null, Int("to", FloatType)), firstRank]);
    }
}
