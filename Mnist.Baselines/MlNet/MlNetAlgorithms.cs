using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Mnist.Core.Training;

namespace Mnist.Baselines.MlNet;

/// <summary>A hyperparameter of an ML.NET trainer: its --param name, default (ML.NET's), allowed range and what it sets.</summary>
/// <param name="Default">An int, double or bool; its type is the parameter's type.</param>
internal sealed record MlNetParameter(string Name, object Default, double Min, double Max, string Doc);

/// <summary>
/// One ML.NET multiclass trainer as a catalog entry: its declared hyperparameters and how they become
/// ML.NET options. ML.NET's defaults are kept; a 0 where ML.NET's option is nullable means "ML.NET's
/// automatic choice" (the trainer's log says what it chose).
/// </summary>
internal abstract class MlNetAlgorithm
{
    public const string SeedName = "seed";

    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract IReadOnlyList<MlNetParameter> Parameters { get; }

    /// <summary>"Training learner k" in ML.NET's log counts one-vs-all learners of this many.</summary>
    public virtual int OneVersusAllLearners => 0;

    /// <summary>The estimator for resolved hyperparameters, using at most <paramref name="threads"/> threads.</summary>
    public abstract IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters values, int threads);

    /// <summary>Hyperparameters read back from a model file (every declared name must be there).</summary>
    public MlNetHyperparameters Resolve(IReadOnlyDictionary<string, object> stored)
    {
        var missing = Parameters.Where(p => !stored.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"the stored hyperparameters lack {string.Join(", ", missing)}");
        var parameters = new TrainerParameters(stored.ToDictionary(
            p => p.Key, p => p.Value is bool b ? (b ? "true" : "false") : Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture)!));
        var values = Resolve(parameters);
        parameters.ThrowIfUnused(Name);
        return values;
    }

    /// <summary>Reads and checks overrides against <see cref="Parameters"/>; names not declared are left for the catalog to reject.</summary>
    public MlNetHyperparameters Resolve(TrainerParameters parameters)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var parameter in Parameters)
        {
            object value = parameter.Default switch
            {
                int d => parameters.Int(parameter.Name, d),
                double d => parameters.Double(parameter.Name, d),
                bool d => parameters.Bool(parameter.Name, d),
                _ => throw new InvalidOperationException($"Parameter '{parameter.Name}' has an unsupported type."),
            };
            if (value is not bool)
            {
                double number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                if (!(number >= parameter.Min && number <= parameter.Max))
                    throw new ArgumentException($"Hyperparameter '{parameter.Name}' must be in {parameter.Min}..{parameter.Max}, not {number}.");
            }
            values[parameter.Name] = value;
        }
        return new MlNetHyperparameters(values);
    }

    protected static MlNetParameter Seed() => new(SeedName, 42, int.MinValue, int.MaxValue, "MLContext seed (and the trainer's own seed where it has one)");

    /// <summary>ML.NET's nullable options: 0 means "let ML.NET choose".</summary>
    protected static int? Auto(int value) => value == 0 ? null : value;
    protected static float? Auto(double value) => value == 0 ? null : (float)value;
    protected static double? AutoDouble(double value) => value == 0 ? null : value;
}

/// <summary>Resolved hyperparameters of an ML.NET trainer (results.json, model files).</summary>
internal sealed class MlNetHyperparameters(IReadOnlyDictionary<string, object> values)
{
    public IReadOnlyDictionary<string, object> Values { get; } = values;
    public int Int(string name) => (int)Values[name];
    public double Double(string name) => (double)Values[name];
    public bool Bool(string name) => (bool)Values[name];
    public int Seed => Int(MlNetAlgorithm.SeedName);
}

/// <summary>mlnet-maxent: L-BFGS maximum entropy (multinomial logistic regression).</summary>
internal sealed class MaxEntAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-maxent";
    public override string Description => "ML.NET LbfgsMaximumEntropy: multinomial logistic regression by L-BFGS (params: l2, l1, tolerance, history-size, max-iterations, seed)";
    public override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("l2", 1.0, 0, double.MaxValue, "L2 regularization weight"),
        new("l1", 1.0, 0, double.MaxValue, "L1 regularization weight"),
        new("tolerance", 1e-7, double.Epsilon, double.MaxValue, "optimization tolerance (> 0)"),
        new("history-size", 20, 1, 1000, "L-BFGS memory"),
        new("max-iterations", int.MaxValue, 1, int.MaxValue, "iteration cap"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            L2Regularization = (float)v.Double("l2"),
            L1Regularization = (float)v.Double("l1"),
            OptimizationTolerance = (float)v.Double("tolerance"),
            HistorySize = v.Int("history-size"),
            MaximumNumberOfIterations = v.Int("max-iterations"),
            NumberOfThreads = threads,
        });
}

/// <summary>mlnet-sdca: stochastic dual coordinate ascent on the maximum-entropy loss.</summary>
internal sealed class SdcaAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-sdca";
    public override string Description => "ML.NET SdcaMaximumEntropy: maximum entropy by stochastic dual coordinate ascent (params: l2, l1, max-iterations, tolerance, shuffle, seed; 0 = ML.NET's automatic choice)";
    public override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("l2", 0.0, 0, double.MaxValue, "L2 regularization (0 = automatic)"),
        new("l1", 0.0, 0, double.MaxValue, "L1 regularization (0 = automatic)"),
        new("max-iterations", 0, 0, int.MaxValue, "passes over the data (0 = automatic)"),
        new("tolerance", 0.1, double.Epsilon, double.MaxValue, "convergence tolerance (duality gap, > 0)"),
        new("shuffle", true, 0, 0, "shuffle the data every pass"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
        {
            L2Regularization = Auto(v.Double("l2")),
            L1Regularization = Auto(v.Double("l1")),
            MaximumNumberOfIterations = Auto(v.Int("max-iterations")),
            ConvergenceTolerance = (float)v.Double("tolerance"),
            Shuffle = v.Bool("shuffle"),
            NumberOfThreads = threads,
        });
}

/// <summary>mlnet-linear-svm: one-vs-all over ML.NET's Pegasos linear SVM, Platt-calibrated.</summary>
internal sealed class LinearSvmAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-linear-svm";
    public override string Description => "ML.NET OneVersusAll(LinearSvm): Pegasos linear SVMs, one per digit, Platt-calibrated (params: lambda, iterations, batch-size, projection, seed)";
    public override int OneVersusAllLearners => 10;
    public override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("lambda", 0.001, 0, double.MaxValue, "regularization"),
        new("iterations", 1, 1, int.MaxValue, "passes over the data"),
        new("batch-size", 1, 1, int.MaxValue, "examples per Pegasos step"),
        new("projection", false, 0, 0, "project onto the unit ball after each step"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.LinearSvm(new LinearSvmTrainer.Options
        {
            Lambda = (float)v.Double("lambda"),
            NumberOfIterations = v.Int("iterations"),
            BatchSize = v.Int("batch-size"),
            PerformProjection = v.Bool("projection"),
        }));
}

/// <summary>mlnet-fasttree: one-vs-all over FastTree binary boosted trees (the design card's Microsoft.ML.FastTree).</summary>
internal sealed class FastTreeAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-fasttree";
    public override string Description => "ML.NET OneVersusAll(FastTree): boosted trees, one binary ensemble per digit (params: trees, leaves, min-leaf, learning-rate, seed)";
    public override int OneVersusAllLearners => 10;
    public override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("trees", 100, 1, 100_000, "boosting rounds per digit"),
        new("leaves", 20, 2, 100_000, "leaves per tree"),
        new("min-leaf", 10, 1, int.MaxValue, "minimum examples per leaf"),
        new("learning-rate", 0.2, double.Epsilon, double.MaxValue, "shrinkage of each tree"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            NumberOfTrees = v.Int("trees"),
            NumberOfLeaves = v.Int("leaves"),
            MinimumExampleCountPerLeaf = v.Int("min-leaf"),
            LearningRate = v.Double("learning-rate"),
            Seed = v.Seed,
            FeatureSelectionSeed = v.Seed,
            NumberOfThreads = threads,
        }));
}

/// <summary>mlnet-lightgbm: LightGBM multiclass through ML.NET (needs the native libgomp.so.1).</summary>
internal sealed class LightGbmAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-lightgbm";
    public override string Description => "ML.NET LightGbm multiclass: LightGBM gradient-boosted trees (params: iterations, leaves, min-leaf, learning-rate, softmax, seed; 0 = ML.NET's automatic choice)";
    public override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("iterations", 100, 1, 100_000, "boosting rounds"),
        new("leaves", 0, 0, 131_072, "leaves per tree (0 = automatic)"),
        new("min-leaf", 0, 0, int.MaxValue, "minimum examples per leaf (0 = automatic)"),
        new("learning-rate", 0.0, 0, double.MaxValue, "shrinkage (0 = automatic)"),
        new("softmax", false, 0, 0, "multiclass softmax objective instead of ML.NET's default one-vs-all"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
        {
            NumberOfIterations = v.Int("iterations"),
            NumberOfLeaves = Auto(v.Int("leaves")),
            MinimumExampleCountPerLeaf = Auto(v.Int("min-leaf")),
            LearningRate = AutoDouble(v.Double("learning-rate")),
            UseSoftmax = v.Bool("softmax") ? true : null,
            NumberOfThreads = threads,
            Seed = v.Seed,
            Deterministic = true,
        });
}
