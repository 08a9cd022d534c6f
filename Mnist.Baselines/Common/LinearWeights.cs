using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Baselines.Common;

/// <summary>
/// The parameters of a linear classifier over raw pixels: scores = X·W + b, with W stored
/// pixel-major (<see cref="Features"/> × 10, row-major) so that X·W is a plain GEMM.
/// </summary>
internal sealed class LinearWeights
{
    /// <summary>Rows per block when scoring; a block of pixels stays cache-resident between GEMMs.</summary>
    internal const int BlockRows = 256;
    private const int MaxFeatures = 1 << 20;
    private const int Classes = DigitDataView.ClassCount;

    public LinearWeights(int features, float[] weights, float[] bias)
    {
        if (features < 1 || features > MaxFeatures) throw new InvalidDataException($"Invalid feature count {features}.");
        if (weights.Length != features * Classes) throw new InvalidDataException($"{weights.Length} weights for {features} features × {Classes} classes.");
        if (bias.Length != Classes) throw new InvalidDataException($"{bias.Length} biases for {Classes} classes.");
        Features = features;
        Weights = weights;
        Bias = bias;
    }

    public int Features { get; }
    /// <summary>Features × 10, row-major.</summary>
    public float[] Weights { get; }
    public float[] Bias { get; }

    /// <summary>Writes data.Count × 10 scores X·W + b into <paramref name="scores"/>, in parallel over row blocks.</summary>
    public void Scores(DigitDataView data, float[] scores)
    {
        IncompatibleDataException.ThrowIfPixelCount(Features, data);
        if (scores.Length < data.Count * Classes) throw new ArgumentException("Score buffer is too small.", nameof(scores));
        int blocks = (data.Count + BlockRows - 1) / BlockRows;
        float[] weights = Weights, bias = Bias;
        int features = Features;
        WorkerLoop.For(blocks,
            () => data.IsContiguous ? [] : new float[BlockRows * features],
            (block, buffer) =>
            {
                int start = block * BlockRows;
                int rows = Math.Min(BlockRows, data.Count - start);
                ReadOnlySpan<float> pixels;
                if (data.IsContiguous)
                {
                    pixels = data.ContiguousPixels.Slice(start * features, rows * features);
                }
                else
                {
                    data.CopyPixels(start, rows, buffer);
                    pixels = buffer.AsSpan(0, rows * features);
                }
                Span<float> output = scores.AsSpan(start * Classes, rows * Classes);
                Gemm.Multiply(Transpose.No, Transpose.No, rows, Classes, features, 1f, pixels, features, weights, Classes, 0f, output, Classes, threads: 1);
                Kernels.AddBiasRows(output, bias);
            });
    }

    /// <summary>Softmax of the scores: probabilities for a logistic model, a monotone squashing for an SVM.</summary>
    public void SoftmaxScores(DigitDataView data, Span<float> probabilities)
    {
        ProbabilityOutput.Check(data, probabilities);
        var scores = new float[data.Count * Classes];
        Scores(data, scores);
        Kernels.SoftmaxRows(scores, Classes);
        scores.CopyTo(probabilities);
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Features);
        writer.Write(Classes);
        ModelPayload.WriteFloats(writer, Weights);
        ModelPayload.WriteFloats(writer, Bias);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; throws <see cref="InvalidDataException"/> on nonsense.</summary>
    public static LinearWeights Read(BinaryReader reader)
    {
        int features = reader.ReadInt32();
        int classes = reader.ReadInt32();
        if (features < 1 || features > MaxFeatures) throw new InvalidDataException($"Invalid feature count {features}.");
        if (classes != Classes) throw new InvalidDataException($"Expected {Classes} classes, found {classes}.");
        long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
        if ((long)(features + 1) * classes * sizeof(float) > remaining)
            throw new InvalidDataException($"The payload is too short for {features} × {classes} weights.");
        var weights = ModelPayload.ReadFiniteFloats(reader, features * classes, "weight");
        var bias = ModelPayload.ReadFiniteFloats(reader, classes, "bias");
        return new LinearWeights(features, weights, bias);
    }
}
