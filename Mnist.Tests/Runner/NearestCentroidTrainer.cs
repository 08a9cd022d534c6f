using System.Diagnostics;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Tests.Runner;

/// <summary>
/// A tiny but real classifier for runner tests: each class is its mean image; an image's class
/// probabilities are a softmax of minus its squared distances to the means over a temperature
/// (about 82% test accuracy on MNIST). "centroid" is calibrated and has a temperature;
/// "centroid-raw" reports uncalibrated scores and has no hyperparameters. "max-per-class" (0 = all) averages
/// only the first N images of each class, so a grid search has something that changes accuracy.
/// </summary>
internal sealed class NearestCentroidTrainer : ITrainer
{
    public const string Name = "centroid";
    public const string RawName = "centroid-raw";
    private const int Chunk = 250;

    /// <summary>The calibrated trainer's hyperparameters.</summary>
    public sealed record Options
    {
        public double Temperature { get; init; } = 8.0;
        public int MaxPerClass { get; init; }

        public static HyperparameterSchema<Options> Schema { get; } = new HyperparameterSchema<Options>(new())
            .Double("temperature", o => o.Temperature, (o, v) => o with { Temperature = v }, "softmax temperature of minus the squared distances", above: 0)
            .Int("max-per-class", o => o.MaxPerClass, (o, v) => o with { MaxPerClass = v }, "average only the first N images of each class (0 = all)", min: 0);
    }

    private readonly bool _calibrated;
    private readonly Options _options;

    private NearestCentroidTrainer(bool calibrated, Options options)
    {
        _calibrated = calibrated;
        _options = options;
    }

    string ITrainer.Name => _calibrated ? Name : RawName;

    public IReadOnlyDictionary<string, object> Hyperparameters => HyperparametersOf(_calibrated, _options);

    private static IReadOnlyDictionary<string, object> HyperparametersOf(bool calibrated, Options options) =>
        calibrated ? Options.Schema.ToDictionary(options) : HyperparameterSchema.Empty.ToDictionary(HyperparameterSchema.Empty.Defaults);

    public static TrainerCatalog AddCentroidTrainers(TrainerCatalog catalog) => catalog
        .Add(TrainerRegistration.For(Name, "Nearest class centroid (test trainer)", Options.Schema,
            options => new NearestCentroidTrainer(true, options),
            reader => Model.Read(reader, calibrated: true)))
        .Add(TrainerRegistration.For(RawName, "Nearest class centroid, uncalibrated scores (test trainer)", HyperparameterSchema.Empty,
            _ => new NearestCentroidTrainer(false, new Options { Temperature = 1.0 }),
            reader => Model.Read(reader, calibrated: false)));

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        int pixels = train.PixelCount;
        var sums = new double[DigitDataView.ClassCount * pixels];
        var counts = new int[DigitDataView.ClassCount];
        for (int start = 0; start < train.Count; start += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(train.Count, start + Chunk);
            for (int i = start; i < end; i++)
            {
                int label = train.GetLabel(i);
                if (_options.MaxPerClass > 0 && counts[label] >= _options.MaxPerClass) continue;
                counts[label]++;
                var image = train.GetImage(i);
                var sum = sums.AsSpan(label * pixels, pixels);
                for (int p = 0; p < pixels; p++) sum[p] += image[p];
            }
            progress?.Report(new TrainingProgress(0.9 * end / train.Count, $"averaging {end}/{train.Count}"));
        }
        var centroids = new float[sums.Length];
        for (int c = 0; c < DigitDataView.ClassCount; c++)
            for (int p = 0; p < pixels; p++)
                centroids[c * pixels + p] = counts[c] == 0 ? 0f : (float)(sums[c * pixels + p] / counts[c]);
        var model = new Model(pixels, centroids, _calibrated, _options);

        // One "epoch": mean squared distance to the own centroid, and validation figures for the history.
        double loss = 0;
        for (int i = 0; i < train.Count; i++) loss += model.Distance(train.GetImage(i), train.GetLabel(i));
        double? validationAccuracy = null;
        if (validation is { Count: > 0, HasLabels: true })
        {
            var predicted = model.Predict(validation);
            validationAccuracy = predicted.Where((p, i) => p == validation.GetLabel(i)).Count() / (double)validation.Count;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var record = new EpochRecord(1, loss / Math.Max(1, train.Count), null, null, validationAccuracy, 1.0, seconds, train.Count / Math.Max(seconds, 1e-9));
        model.History.Add(record);
        progress?.Report(new TrainingProgress(1.0, "epoch 1/1", record));
        return model;
    }

    private sealed class Model(int pixelCount, float[] centroids, bool calibrated, Options options) : ITrainedModel
    {
        public string TrainerName => calibrated ? Name : RawName;
        public IReadOnlyDictionary<string, object> Hyperparameters => HyperparametersOf(calibrated, options);
        public bool HasCalibratedProbabilities => calibrated;
        public TrainingHistory History { get; } = new();

        public double Distance(ReadOnlySpan<float> image, int c)
        {
            var centroid = centroids.AsSpan(c * pixelCount, pixelCount);
            double d = 0;
            for (int p = 0; p < pixelCount; p++)
            {
                double diff = image[p] - centroid[p];
                d += diff * diff;
            }
            return d;
        }

        public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
        {
            Span<double> logits = stackalloc double[DigitDataView.ClassCount];
            for (int i = 0; i < data.Count; i++)
            {
                var image = data.GetImage(i);
                for (int c = 0; c < logits.Length; c++) logits[c] = -Distance(image, c) / options.Temperature;
                double max = double.NegativeInfinity;
                foreach (double l in logits) max = Math.Max(max, l);
                double total = 0;
                for (int c = 0; c < logits.Length; c++) total += logits[c] = Math.Exp(logits[c] - max);
                for (int c = 0; c < logits.Length; c++) probabilities[i * DigitDataView.ClassCount + c] = (float)(logits[c] / total);
            }
        }

        public void WritePayload(BinaryWriter writer)
        {
            writer.Write(pixelCount);
            Options.Schema.Write(writer, options);
            foreach (float value in centroids) writer.Write(value);
        }

        public static Model Read(BinaryReader reader, bool calibrated)
        {
            int pixelCount = reader.ReadInt32();
            var options = Options.Schema.Read(reader);
            var centroids = new float[DigitDataView.ClassCount * pixelCount];
            for (int i = 0; i < centroids.Length; i++) centroids[i] = reader.ReadSingle();
            return new Model(pixelCount, centroids, calibrated, options);
        }
    }
}

/// <summary>A trainer that simulates Ctrl+C halfway through its fit: it cancels the run's token source, then honours it.</summary>
internal sealed class CancellingTrainer(CancellationTokenSource source) : ITrainer
{
    public const string Name = "ctrl-c";
    string ITrainer.Name => Name;
    public IReadOnlyDictionary<string, object> Hyperparameters { get; } = new Dictionary<string, object>();

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        progress?.Report(new TrainingProgress(0.5, "halfway"));
        source.Cancel();
        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException("The runner did not pass its cancellation token to Fit.");
    }
}

/// <summary>A trainer with a bug: it throws from Fit.</summary>
internal sealed class CrashingTrainer : ITrainer
{
    public const string Name = "boom";
    string ITrainer.Name => Name;
    public IReadOnlyDictionary<string, object> Hyperparameters { get; } = new Dictionary<string, object>();

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("weights exploded");
}

/// <summary>Catalogs for runner tests.</summary>
internal static class TestCatalogs
{
    /// <summary>The two centroid trainers.</summary>
    public static TrainerCatalog Centroids() => NearestCentroidTrainer.AddCentroidTrainers(new TrainerCatalog());

    /// <summary>The centroid trainers and the real ones: baselines (logreg, linear-svm) and neural (mlp, cnn, cnn-small).</summary>
    public static TrainerCatalog WithReal() => Mnist.Cnn.NeuralNetworkCatalog.AddNeuralNetworks(Mnist.Baselines.BaselinesCatalog.AddBaselines(Centroids()));

    /// <summary>The centroid trainer followed by one that presses Ctrl+C on <paramref name="source"/>.</summary>
    public static TrainerCatalog WithCtrlC(CancellationTokenSource source) => Centroids()
        .Add(TrainerRegistration.For(CancellingTrainer.Name, "Simulates Ctrl+C", HyperparameterSchema.Empty, _ => new CancellingTrainer(source),
            _ => throw new NotSupportedException()));

    /// <summary>The centroid trainer followed by one that crashes.</summary>
    public static TrainerCatalog WithCrash() => Centroids()
        .Add(TrainerRegistration.For(CrashingTrainer.Name, "Throws from Fit", HyperparameterSchema.Empty, _ => new CrashingTrainer(), _ => throw new NotSupportedException()));
}
