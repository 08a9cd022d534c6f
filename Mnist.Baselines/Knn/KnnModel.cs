using Mnist.Baselines.Common;
using Mnist.Baselines.Pca;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.Knn;

/// <summary>
/// A fitted k-NN classifier: the stored (optionally PCA-projected) training images and labels.
/// </summary>
/// <remarks>
/// <para><see cref="PredictProbabilities"/> gives each class's share of the (weighted) votes of the k nearest
/// training images. Ranking: squared Euclidean distance, the smaller training index first at equal distance.
/// Vote ties go to the tied class whose best-ranked neighbour is nearest: that class's probability is raised by
/// one float ulp above the others, so the argmax is the prediction; otherwise the values are the exact vote
/// fractions.</para>
/// <para><see cref="HasCalibratedProbabilities"/> is false: vote fractions are coarse (multiples of 1/k) and
/// often exactly 0 for the true class of a misclassified image, so a log-loss would mostly measure the
/// probability floor, not the model.</para>
/// <para>The model file stores the training images as bytes (value·255) when they are exactly byte/255 (raw
/// pixels, as every loader produces), else as floats.</para>
/// </remarks>
public sealed class KnnModel : ITrainedModel
{
    /// <summary>2: the hyperparameters are a JSON block read through the schema.</summary>
    private const int PayloadVersion = 2;
    private const int Classes = DigitDataView.ClassCount;
    private const int MaxDimensions = 1 << 16;

    /// <summary>Queries are projected and searched this many at a time, bounding the copy of a large view.</summary>
    private const int QueryChunk = 8192;

    private readonly float[] _reference;
    private readonly byte[] _labels;
    private readonly NeighbourSearch _search;

    internal KnnModel(KnnOptions options, int pixelCount, PcaProjection? pca, float[] reference, byte[] labels)
    {
        int dims = pca?.Components ?? pixelCount;
        if (pca is not null && pca.Dimensions != pixelCount) throw new InvalidDataException($"The PCA expects {pca.Dimensions} pixels, the model {pixelCount}.");
        if (options.PcaComponents != (pca?.Components ?? 0)) throw new InvalidDataException("The PCA component count does not match the options.");
        if (labels.Length < 1 || reference.Length != (long)labels.Length * dims)
            throw new InvalidDataException($"{reference.Length} reference values for {labels.Length} images of {dims} values.");
        foreach (byte label in labels)
            if (label >= Classes) throw new InvalidDataException($"Label {label} is outside 0..9.");
        Options = options;
        PixelCount = pixelCount;
        Pca = pca;
        _reference = reference;
        _labels = labels;
        _search = new NeighbourSearch(reference, labels.Length, dims);
    }

    public KnnOptions Options { get; }
    public string TrainerName => KnnTrainer.TrainerName;
    public IReadOnlyDictionary<string, object> Hyperparameters => KnnOptions.Schema.ToDictionary(Options);
    public bool HasCalibratedProbabilities => false;
    public TrainingHistory? History { get; internal set; }

    /// <summary>Pixels per image the model expects.</summary>
    public int PixelCount { get; }
    /// <summary>The PCA projection, or null when searching raw pixels.</summary>
    public PcaProjection? Pca { get; }
    /// <summary>Stored training images.</summary>
    public int TrainingCount => _labels.Length;

    /// <summary>The stored (projected) training images (TrainingCount × searched dimensions) and their labels, for export.</summary>
    internal (float[] Reference, byte[] Labels) Stored => (_reference, _labels);

    /// <summary>
    /// The min(k, TrainingCount) nearest training images of every image of <paramref name="data"/>: indices into
    /// the training set and squared distances (in the searched space), nearest first, row-major data.Count × k.
    /// </summary>
    public (int[] Indices, float[] Distances) Neighbours(DigitDataView data)
    {
        int k = Options.K;
        var indices = new int[data.Count * k];
        var distances = new float[data.Count * k];
        SearchChunks(data, indices, distances);
        return (indices, distances);
    }

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
    {
        ProbabilityOutput.Check(data, probabilities);
        var (indices, distances) = Neighbours(data);
        int k = Options.K;
        bool weighted = Options.Weighting == KnnOptions.Distance;
        for (int i = 0; i < data.Count; i++)
            Vote(indices.AsSpan(i * k, k), distances.AsSpan(i * k, k), _labels, weighted, probabilities.Slice(i * Classes, Classes));
    }

    private void SearchChunks(DigitDataView data, int[] indices, float[] distances)
    {
        IncompatibleDataException.ThrowIfPixelCount(PixelCount, data);
        int k = Options.K;
        int chunkRows = Math.Min(QueryChunk, data.Count);
        var pixels = data.IsContiguous || Pca is not null ? null : new float[chunkRows * PixelCount];
        var projected = Pca is null ? null : new float[chunkRows * Pca.Components];
        var rawChunk = Pca is not null && !data.IsContiguous ? new float[chunkRows * PixelCount] : null;
        for (int start = 0; start < data.Count; start += QueryChunk)
        {
            int rows = Math.Min(QueryChunk, data.Count - start);
            ReadOnlySpan<float> raw;
            if (data.IsContiguous)
            {
                raw = data.ContiguousPixels.Slice(start * PixelCount, rows * PixelCount);
            }
            else
            {
                float[] buffer = pixels ?? rawChunk!;
                data.CopyPixels(start, rows, buffer);
                raw = buffer.AsSpan(0, rows * PixelCount);
            }
            ReadOnlySpan<float> queries = raw;
            if (Pca is not null)
            {
                Pca.Project(raw, rows, projected);
                queries = projected.AsSpan(0, rows * Pca.Components);
            }
            _search.Search(queries, rows, k, indices.AsSpan(start * k, rows * k), distances.AsSpan(start * k, rows * k));
        }
    }

    /// <summary>
    /// Class shares of the votes of one image's neighbours (nearest first; index −1 = no neighbour). Vote ties go
    /// to the tied class holding the best-ranked neighbour, lifted one ulp above the others.
    /// </summary>
    internal static void Vote(ReadOnlySpan<int> indices, ReadOnlySpan<float> distances, ReadOnlySpan<byte> labels, bool distanceWeighting, Span<float> probabilities)
    {
        Span<double> weight = stackalloc double[Classes];
        Span<int> firstRank = stackalloc int[Classes];
        weight.Clear();
        firstRank.Fill(int.MaxValue);
        bool exactMatch = distanceWeighting && indices.Length > 0 && indices[0] >= 0 && distances[0] == 0f;
        for (int r = 0; r < indices.Length && indices[r] >= 0; r++)
        {
            double w = !distanceWeighting ? 1.0
                : exactMatch ? (distances[r] == 0f ? 1.0 : 0.0)
                : 1.0 / Math.Sqrt(distances[r]);
            if (w == 0) continue;
            int c = labels[indices[r]];
            weight[c] += w;
            if (firstRank[c] == int.MaxValue) firstRank[c] = r;
        }
        double total = 0;
        int winner = 0;
        for (int c = 0; c < Classes; c++)
        {
            total += weight[c];
            if (weight[c] > weight[winner] || (weight[c] == weight[winner] && firstRank[c] < firstRank[winner])) winner = c;
        }
        if (total == 0)
        {
            probabilities.Fill(1f / Classes);
            return;
        }
        float bestOther = 0f;
        for (int c = 0; c < Classes; c++)
        {
            probabilities[c] = (float)(weight[c] / total);
            if (c != winner) bestOther = Math.Max(bestOther, probabilities[c]);
        }
        if (probabilities[winner] <= bestOther) probabilities[winner] = MathF.BitIncrement(bestOther);
    }

    public void WritePayload(BinaryWriter writer)
    {
        ModelPayload.WriteHead(writer, PayloadVersion, KnnOptions.Schema, Options, PixelCount);
        writer.Write(Pca is not null);
        Pca?.Write(writer);
        writer.Write(_labels.Length);
        writer.Write(_labels);
        ModelPayload.WriteImages(writer, _reference, mayUseBytes: Pca is null);
    }

    /// <summary>Reads what <see cref="WritePayload"/> wrote; throws <see cref="InvalidDataException"/> on nonsense.</summary>
    public static KnnModel Load(BinaryReader reader)
    {
        var (options, pixelCount) = ModelPayload.ReadHead(reader, PayloadVersion, KnnTrainer.TrainerName, KnnOptions.Schema, MaxDimensions);
        var pca = reader.ReadBoolean() ? PcaProjection.Read(reader) : null;
        int dims = pca?.Components ?? pixelCount;
        int count = reader.ReadInt32();
        long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
        if (count < 1 || count > remaining) throw new InvalidDataException($"Invalid training image count {count}.");
        byte[] labels = reader.ReadBytes(count);
        if (labels.Length != count) throw new EndOfStreamException("The payload ends inside the labels.");
        bool asBytes = ModelPayload.ReadImagesAsBytes(reader);
        if (asBytes && pca is not null) throw new InvalidDataException("PCA projections cannot be stored as bytes.");
        long values = (long)count * dims;
        remaining = reader.BaseStream.Length - reader.BaseStream.Position;
        if (ModelPayload.StoredSize(values, asBytes) > remaining || values > Array.MaxLength)
            throw new InvalidDataException($"The payload is too short for {count} images of {dims} values.");
        var reference = ModelPayload.ReadImages(reader, values, asBytes);
        return new KnnModel(options, pixelCount, pca, reference, labels);
    }
}
