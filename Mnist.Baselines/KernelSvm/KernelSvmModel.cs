using System.Numerics.Tensors;
using Mnist.Baselines.Common;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Baselines.KernelSvm;

/// <summary>
/// A fitted one-vs-one RBF SVM: the distinct support vectors, and per pair (a, b) of classes the coefficients
/// αᵢyᵢ over them and ρ, so that f_ab(x) = Σᵢ αᵢyᵢ exp(−γ‖sᵢ − x‖²) − ρ_ab and f_ab &gt; 0 votes for a.
/// </summary>
/// <remarks>
/// Prediction evaluates the kernel between a block of images and all support vectors (one GEMM), then all 45
/// decision values at once (a second GEMM with the support × 45 coefficient matrix). The class score is its
/// vote count plus scikit-learn's tie-breaking confidence: the sum of its decision values (±f) squashed into
/// (−1/3, 1/3) by s/(3(|s| + 1)), so the most voted class wins and ties go to the more confident class.
/// <see cref="PredictProbabilities"/> returns the softmax of these scores — a monotone squashing, not
/// calibrated probabilities (<see cref="HasCalibratedProbabilities"/> is false). Rows are scored in parallel
/// blocks, each value independent of the thread count.
/// </remarks>
public sealed class KernelSvmModel : ITrainedModel
{
    /// <summary>2: the hyperparameters are a JSON block read through the schema.</summary>
    private const int PayloadVersion = 2;
    private const int Classes = DigitDataView.ClassCount;
    private const int Pairs = Classes * (Classes - 1) / 2;
    private const int MaxPixels = 1 << 20;
    private const int BlockRows = 256;

    private readonly float[] _supportVectors; // S × PixelCount
    private readonly float[] _norms;
    private readonly float[] _coefficients;   // S × 45
    private readonly double[] _rho;           // 45

    private KernelSvmModel(KernelSvmOptions options, int pixelCount, float[] supportVectors, float[] coefficients, double[] rho)
    {
        if (pixelCount < 1 || pixelCount > MaxPixels) throw new InvalidDataException($"Invalid pixel count {pixelCount}.");
        if (supportVectors.Length % pixelCount != 0) throw new InvalidDataException("The support vectors are not whole images.");
        int count = supportVectors.Length / pixelCount;
        if (coefficients.Length != (long)count * Pairs) throw new InvalidDataException($"{coefficients.Length} coefficients for {count} support vectors × {Pairs} pairs.");
        if (rho.Length != Pairs) throw new InvalidDataException($"{rho.Length} offsets for {Pairs} pairs.");
        (Options, PixelCount, SupportVectorCount) = (options, pixelCount, count);
        (_supportVectors, _coefficients, _rho) = (supportVectors, coefficients, rho);
        _norms = Kernels.SquaredNorms(supportVectors, count, pixelCount);
    }

    public KernelSvmOptions Options { get; }
    public string TrainerName => KernelSvmTrainer.TrainerName;
    public IReadOnlyDictionary<string, object> Hyperparameters => KernelSvmOptions.Schema.ToDictionary(Options);
    public bool HasCalibratedProbabilities => false;
    public TrainingHistory? History { get; internal set; }

    /// <summary>Pixels per image the model expects.</summary>
    public int PixelCount { get; }
    /// <summary>Distinct training images with a non-zero coefficient in some pair.</summary>
    public int SupportVectorCount { get; }

    /// <summary>The support vectors (S × PixelCount), their coefficients (S × 45) and the 45 offsets ρ, for export.</summary>
    internal (float[] SupportVectors, float[] Coefficients, double[] Rho) Parameters => (_supportVectors, _coefficients, _rho);

    /// <summary>The pair index of classes a &lt; b, in the order (0,1), (0,2), …, (0,9), (1,2), …, (8,9).</summary>
    public static int PairIndex(int a, int b) => a * (2 * Classes - a - 1) / 2 + (b - a - 1);

    internal static KernelSvmModel Build(KernelSvmOptions options, DigitDataView train, IReadOnlyList<(int A, int B)> pairs, PairResult[] results)
    {
        int pixelCount = train.PixelCount;
        // Distinct support vectors in increasing training index.
        var isSupport = new bool[train.Count];
        foreach (var result in results)
            for (int i = 0; i < result.Indices.Length; i++)
                if (result.Alpha[i] > 0) isSupport[result.Indices[i]] = true;
        var position = new int[isSupport.Length];
        int count = 0;
        for (int i = 0; i < isSupport.Length; i++) position[i] = isSupport[i] ? count++ : -1;

        var supportVectors = new float[(long)count * pixelCount];
        for (int i = 0; i < isSupport.Length; i++)
            if (isSupport[i]) train.GetImage(i).CopyTo(supportVectors.AsSpan(position[i] * pixelCount, pixelCount));
        var coefficients = new float[(long)count * Pairs];
        var rho = new double[Pairs];
        for (int p = 0; p < pairs.Count; p++)
        {
            var result = results[p];
            int column = PairIndex(pairs[p].A, pairs[p].B);
            rho[column] = result.Rho;
            for (int i = 0; i < result.Indices.Length; i++)
                if (result.Alpha[i] > 0)
                    coefficients[position[result.Indices[i]] * Pairs + column] = (float)(result.Alpha[i] * result.Y[i]);
        }
        return new KernelSvmModel(options, pixelCount, supportVectors, coefficients, rho);
    }

    /// <summary>The 45 decision values f_ab (in <see cref="PairIndex"/> order) of every image, row-major data.Count × 45.</summary>
    public float[] DecisionValues(DigitDataView data)
    {
        ArgumentNullException.ThrowIfNull(data);
        IncompatibleDataException.ThrowIfPixelCount(PixelCount, data);
        var decisions = new float[data.Count * Pairs];
        int blocks = (data.Count + BlockRows - 1) / BlockRows;
        int s = SupportVectorCount;
        float gamma = (float)Options.Gamma;
        var rho = new float[Pairs];
        for (int p = 0; p < Pairs; p++) rho[p] = (float)_rho[p];
        WorkerLoop.For(blocks,
            () => (Pixels: new float[BlockRows * PixelCount], Kernel: new float[BlockRows * Math.Max(s, 1)]),
            (block, buffers) =>
            {
                int start = block * BlockRows;
                int rows = Math.Min(BlockRows, data.Count - start);
                data.CopyPixels(start, rows, buffers.Pixels);
                float[] norms = Kernels.SquaredNorms(buffers.Pixels, rows, PixelCount);
                Span<float> output = decisions.AsSpan(start * Pairs, rows * Pairs);
                if (s == 0)
                {
                    output.Clear();
                }
                else
                {
                    RbfKernel.Block(buffers.Pixels, norms, rows, _supportVectors, _norms, s, PixelCount, gamma, buffers.Kernel, s);
                    Gemm.Multiply(Transpose.No, Transpose.No, rows, Pairs, s, 1f, buffers.Kernel, s, _coefficients, Pairs, 0f, output, Pairs, threads: 1);
                }
                for (int i = 0; i < rows; i++)
                {
                    Span<float> row = output.Slice(i * Pairs, Pairs);
                    TensorPrimitives.Subtract(row, rho, row);
                }
            });
        return decisions;
    }

    /// <summary>Votes plus the squashed confidence (see the class remarks), data.Count × 10.</summary>
    public float[] Scores(DigitDataView data)
    {
        float[] decisions = DecisionValues(data);
        var scores = new float[data.Count * Classes];
        Span<double> votes = stackalloc double[Classes];
        Span<double> confidence = stackalloc double[Classes];
        for (int i = 0; i < data.Count; i++)
        {
            votes.Clear();
            confidence.Clear();
            ReadOnlySpan<float> f = decisions.AsSpan(i * Pairs, Pairs);
            int p = 0;
            for (int a = 0; a < Classes; a++)
                for (int b = a + 1; b < Classes; b++, p++)
                {
                    votes[f[p] > 0 ? a : b] += 1;
                    confidence[a] += f[p];
                    confidence[b] -= f[p];
                }
            for (int c = 0; c < Classes; c++)
                scores[i * Classes + c] = (float)(votes[c] + confidence[c] / (3 * (Math.Abs(confidence[c]) + 1)));
        }
        return scores;
    }

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
    {
        ProbabilityOutput.Check(data, probabilities);
        float[] scores = Scores(data);
        Kernels.SoftmaxRows(scores, Classes);
        scores.CopyTo(probabilities);
    }

    public void WritePayload(BinaryWriter writer)
    {
        ModelPayload.WriteHead(writer, PayloadVersion, KernelSvmOptions.Schema, Options, PixelCount);
        writer.Write(SupportVectorCount);
        ModelPayload.WriteImages(writer, _supportVectors);
        ModelPayload.WriteFloats(writer, _coefficients);
        foreach (double r in _rho) writer.Write(r);
    }

    /// <summary>Reads what <see cref="WritePayload"/> wrote; throws <see cref="InvalidDataException"/> on nonsense.</summary>
    public static KernelSvmModel Load(BinaryReader reader)
    {
        var (options, pixelCount) = ModelPayload.ReadHead(reader, PayloadVersion, KernelSvmTrainer.TrainerName, KernelSvmOptions.Schema, MaxPixels);
        int count = reader.ReadInt32();
        bool asBytes = ModelPayload.ReadImagesAsBytes(reader);
        long values = (long)count * pixelCount;
        long needed = ModelPayload.StoredSize(values, asBytes) + (long)count * Pairs * sizeof(float) + Pairs * sizeof(double);
        if (count < 0 || values > Array.MaxLength || needed > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"The payload is too short for {count} support vectors of {pixelCount} pixels.");
        var supportVectors = ModelPayload.ReadImages(reader, values, asBytes);
        var coefficients = ModelPayload.ReadFiniteFloats(reader, (long)count * Pairs, "coefficient");
        var rho = ModelPayload.ReadFiniteDoubles(reader, Pairs, "offset");
        return new KernelSvmModel(options, pixelCount, supportVectors, coefficients, rho);
    }
}
