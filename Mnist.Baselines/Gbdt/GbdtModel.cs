using Mnist.Baselines.Common;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// A trained gradient-boosted tree ensemble: per class, the base score plus the sum of that class's
/// tree outputs (tree t belongs to class t mod 10), turned into probabilities by a softmax.
/// </summary>
public sealed class GbdtModel : ITrainedModel
{
    private const int PayloadVersion = 1;
    private const int MaxPixels = 1 << 20;
    private const int MaxRounds = 100_000;
    private const int MaxInternalNodes = 1 << 20;
    private const int ClassCount = DigitDataView.ClassCount;

    internal GbdtModel(int pixelCount, float[] baseScores, RegressionTree[] trees, GbdtOptions options,
        TrainingHistory? history = null, int bestRound = 0, string? stopReason = null)
    {
        if (baseScores.Length != ClassCount) throw new ArgumentException($"{baseScores.Length} base scores for {ClassCount} classes.");
        if (trees.Length % ClassCount != 0) throw new ArgumentException($"{trees.Length} trees is not a whole number of rounds.");
        PixelCount = pixelCount;
        BaseScores = baseScores;
        Trees = trees;
        Options = options;
        History = history;
        BestRound = bestRound == 0 ? trees.Length / ClassCount : bestRound;
        StopReason = stopReason;
    }

    public string TrainerName => GbdtTrainer.TrainerName;
    public GbdtOptions Options { get; }
    public IReadOnlyDictionary<string, object> Hyperparameters => GbdtOptions.Schema.ToDictionary(Options);
    public TrainingHistory? History { get; }
    public bool HasCalibratedProbabilities => true;

    /// <summary>Pixels per image the model expects.</summary>
    public int PixelCount { get; }
    /// <summary>Boosting rounds kept in the model (one tree per class each).</summary>
    public int Rounds => Trees.Length / ClassCount;
    /// <summary>The round whose model was kept (the best validation round under early stopping).</summary>
    public int BestRound { get; }
    /// <summary>Why boosting ended before its last round (early stopping), or null.</summary>
    public string? StopReason { get; }
    /// <summary>Where the fit's time went (null for a loaded model).</summary>
    public GbdtPhaseTimes? FitTimes { get; init; }
    /// <summary>Total number of leaves over all trees.</summary>
    public int LeafCount => Trees.Sum(t => t.LeafCount);

    internal float[] BaseScores { get; }
    internal RegressionTree[] Trees { get; }

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
    {
        IncompatibleDataException.ThrowIfPixelCount(PixelCount, data);
        ProbabilityOutput.Check(data, probabilities);
        var scores = new float[data.Count * ClassCount];
        const int Chunk = 256;
        int chunks = (data.Count + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, ComputeSettings.ParallelOptions(), chunk =>
        {
            var bins = new byte[PixelCount];
            int end = Math.Min(data.Count, (chunk + 1) * Chunk);
            for (int i = chunk * Chunk; i < end; i++)
            {
                BinnedData.ToBins(data.GetImage(i), bins);
                RawScores(bins, scores.AsSpan(i * ClassCount, ClassCount));
            }
        });
        Softmax(scores);
        scores.CopyTo(probabilities);
    }

    /// <summary>The per-class raw scores (log-odds up to a constant) of one binned image.</summary>
    internal void RawScores(ReadOnlySpan<byte> bins, Span<float> scores)
    {
        BaseScores.CopyTo(scores);
        for (int t = 0; t < Trees.Length; t++) scores[t % ClassCount] += Trees[t].Evaluate(bins);
    }

    /// <summary>Row-wise softmax of count × 10 scores, in place (shared with training so both agree bit for bit).</summary>
    internal static void Softmax(Span<float> scores)
    {
        for (int start = 0; start < scores.Length; start += ClassCount)
        {
            var row = scores.Slice(start, ClassCount);
            float max = row[0];
            for (int c = 1; c < ClassCount; c++) max = MathF.Max(max, row[c]);
            float sum = 0;
            for (int c = 0; c < ClassCount; c++)
            {
                row[c] = MathF.Exp(row[c] - max);
                sum += row[c];
            }
            float inverse = 1f / sum;
            for (int c = 0; c < ClassCount; c++) row[c] *= inverse;
        }
    }

    public void WritePayload(BinaryWriter writer)
    {
        ModelPayload.WriteHead(writer, PayloadVersion, GbdtOptions.Schema, Options, PixelCount);
        writer.Write(ClassCount);
        ModelPayload.WriteFloats(writer, BaseScores);
        writer.Write(Rounds);
        foreach (var tree in Trees) tree.Write(writer);
    }

    /// <summary>Reads a payload written by <see cref="WritePayload"/>; malformed content raises <see cref="InvalidDataException"/>.</summary>
    public static GbdtModel Load(BinaryReader reader)
    {
        var (options, pixelCount) = ModelPayload.ReadHead(reader, PayloadVersion, GbdtTrainer.TrainerName, GbdtOptions.Schema, MaxPixels);
        int classes = reader.ReadInt32();
        if (classes != ClassCount) throw new InvalidDataException($"a model of {classes} classes (expected {ClassCount})");
        var baseScores = ModelPayload.ReadFiniteFloats(reader, ClassCount, "base score");
        int rounds = reader.ReadInt32();
        if (rounds < 0 || rounds > MaxRounds) throw new InvalidDataException($"{rounds} rounds is outside 0..{MaxRounds}");
        // Each tree takes at least 12 bytes (two counts and one leaf value).
        if ((long)rounds * ClassCount * 12 > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"{rounds} rounds of trees do not fit in the payload");
        var trees = new RegressionTree[rounds * ClassCount];
        for (int t = 0; t < trees.Length; t++) trees[t] = RegressionTree.Read(reader, pixelCount, MaxInternalNodes);
        return new GbdtModel(pixelCount, baseScores, trees, options);
    }
}
