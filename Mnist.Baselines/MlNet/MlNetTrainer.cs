using System.Diagnostics;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Mnist.Baselines.Common;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Baselines.MlNet;

/// <summary>
/// An ML.NET trainer behind our <see cref="ITrainer"/> contract: it fits on the <see cref="DigitDataView"/>
/// itself (an IDataView), reports progress from ML.NET's log, stops on cancellation, and its model
/// wraps ML.NET's model zip in our model file.
/// </summary>
internal sealed class MlNetTrainer : SchemaTrainer<MlNetHyperparameters>
{
    /// <summary>The engine name reports give these trainers.</summary>
    public const string EngineName = "ML.NET 5.0.1";

    private readonly MlNetAlgorithm _algorithm;

    internal MlNetTrainer(MlNetAlgorithm algorithm, MlNetHyperparameters values) : base(algorithm.Name, algorithm.Schema, values) => _algorithm = algorithm;

    private protected override ITrainedModel FitChecked(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var ml = new MLContext(Options.Seed);
        var clock = Stopwatch.StartNew();
        ITransformer transformer;
        using (var monitor = new MlNetFitMonitor(ml, _algorithm.OneVersusAllLearners, progress, cancellationToken))
        {
            var estimator = _algorithm.Build(ml, Options, ComputeSettings.Threads);
            transformer = monitor.Run(() => estimator.Fit(new CancellableDataView(train, cancellationToken)));
        }
        // The runner scores the validation set itself; one pass of ML.NET gives no per-epoch history.
        var model = new MlNetModel(_algorithm, Options, ml, transformer, train.PixelCount);
        progress?.Report(new TrainingProgress(1.0, $"ML.NET fit done in {clock.Elapsed.TotalSeconds:0.0} s"));
        return model;
    }
}

/// <summary>A fitted ML.NET model: class probabilities from its Score column.</summary>
public sealed class MlNetModel : ITrainedModel
{
    private const int PayloadVersion = 1;
    private readonly MlNetAlgorithm _algorithm;
    private readonly MlNetHyperparameters _values;
    private readonly MLContext _ml;
    private readonly int _pixelCount;

    internal MlNetModel(MlNetAlgorithm algorithm, MlNetHyperparameters values, MLContext ml, ITransformer transformer, int pixelCount)
    {
        (_algorithm, _values, _ml) = (algorithm, values, ml);
        (Transformer, _pixelCount) = (transformer, pixelCount);
    }

    /// <summary>ML.NET's fitted transformer: use it in your own ML.NET pipelines (it adds Score and PredictedLabel).</summary>
    public ITransformer Transformer { get; }

    public string TrainerName => _algorithm.Name;
    public IReadOnlyDictionary<string, object> Hyperparameters => _algorithm.Schema.ToDictionary(_values);
    public string Engine => MlNetTrainer.EngineName;

    /// <summary>
    /// Scores through ML.NET and normalises each row to sum to one (one-vs-all models give per-class
    /// calibrated scores that need not).
    /// </summary>
    public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
    {
        const int classes = DigitDataView.ClassCount;
        IncompatibleDataException.ThrowIfPixelCount(_pixelCount, data);
        ProbabilityOutput.Check(data, probabilities);
        var scored = Transformer.Transform(data);
        var scoreColumn = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([scoreColumn]);
        var getter = cursor.GetGetter<VBuffer<float>>(scoreColumn);
        var score = default(VBuffer<float>);
        int row = 0;
        while (cursor.MoveNext())
        {
            getter(ref score);
            var destination = probabilities.Slice(row * classes, classes);
            destination.Clear();
            score.CopyTo(destination[..Math.Min(classes, score.Length)]);
            Kernels.NormaliseToProbabilities(destination);
            row++;
        }
        if (row != data.Count) throw new InvalidOperationException($"ML.NET scored {row} rows of {data.Count}.");
    }

    /// <summary>Payload: version, hyperparameters (JSON), pixel count, then ML.NET's model zip (length-prefixed).</summary>
    public void WritePayload(BinaryWriter writer)
    {
        using var zip = new MemoryStream();
        _ml.Model.Save(Transformer, ModelInputSchema(_pixelCount), zip);
        ModelPayload.WriteHead(writer, PayloadVersion, _algorithm.Schema, _values, _pixelCount);
        writer.Write(zip.Length);
        writer.Write(zip.GetBuffer(), 0, (int)zip.Length);
    }

    internal static MlNetModel Load(MlNetAlgorithm algorithm, BinaryReader reader)
    {
        var (values, pixelCount) = ModelPayload.ReadHead(reader, PayloadVersion, algorithm.Name, algorithm.Schema, 1 << 24);
        long length = reader.ReadInt64();
        if (length < 1 || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"The ML.NET model is said to be {length} bytes, more than the payload holds.");
        var zip = reader.ReadBytes((int)length);
        VerifyZip(zip);
        var ml = new MLContext(values.Seed);
        ITransformer transformer;
        try
        {
            transformer = ml.Model.Load(new MemoryStream(zip, writable: false), out _);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"ML.NET could not read its model ({e.GetType().Name}: {FirstLine(e.Message)})", e);
        }
        var model = new MlNetModel(algorithm, values, ml, transformer, pixelCount);
        model.Probe();
        return model;
    }

    /// <summary>
    /// ML.NET's loader does not check a model's trees or weights against its input (a damaged split
    /// index surfaces only while scoring), so a loaded model scores a small seeded batch of images first,
    /// and any failure there is a damaged model file.
    /// </summary>
    private void Probe()
    {
        const int images = 32;
        var pixels = new float[images * _pixelCount];
        var random = new Random(12345);
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (i / _pixelCount) switch { 0 => 0f, 1 => 1f, _ => random.Next(3) == 0 ? (float)random.NextDouble() : 0f };
        int side = (int)Math.Sqrt(_pixelCount);
        var probe = side * side == _pixelCount ? new DigitDataView(side, side, pixels) : new DigitDataView(1, _pixelCount, pixels);
        try
        {
            PredictProbabilities(probe, new float[images * DigitDataView.ClassCount]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"the ML.NET model fails on a probe batch ({e.GetType().Name}: {FirstLine(e.Message)})", e);
        }
    }

    /// <summary>
    /// ML.NET's loader trusts its zip: a damaged entry can make it read arrays of absurd lengths for
    /// minutes. So each entry is read here first, its size bounded and its CRC-32 checked.
    /// </summary>
    private static void VerifyZip(byte[] zip)
    {
        const long maxEntry = 1L << 30;
        try
        {
            using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip, writable: false), System.IO.Compression.ZipArchiveMode.Read);
            var buffer = new byte[81920];
            long total = 0;
            foreach (var entry in archive.Entries)
            {
                total += entry.Length;
                if (entry.Length > maxEntry || total > maxEntry)
                    throw new InvalidDataException($"the ML.NET model's entry '{entry.FullName}' claims {entry.Length} bytes");
                var crc = new System.IO.Hashing.Crc32();
                long read = 0;
                using (var stream = entry.Open())
                {
                    int n;
                    while ((n = stream.Read(buffer)) > 0)
                    {
                        read += n;
                        if (read > entry.Length) break;
                        crc.Append(buffer.AsSpan(0, n));
                    }
                }
                if (read != entry.Length || crc.GetCurrentHashAsUInt32() != entry.Crc32)
                    throw new InvalidDataException($"the ML.NET model's entry '{entry.FullName}' is damaged (size or CRC-32 mismatch)");
            }
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"the ML.NET model zip is damaged ({e.GetType().Name}: {FirstLine(e.Message)})", e);
        }
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    /// <summary>The input schema stored with the zip: a Features vector of the trained pixel count.</summary>
    private static DataViewSchema ModelInputSchema(int pixelCount)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(DigitDataView.Columns.Features, new VectorDataViewType(NumberDataViewType.Single, pixelCount));
        return builder.ToSchema();
    }
}
