using Mnist.Core.Data;
using Mnist.Core.Training;

namespace MnistSample;

/// <summary>The hyperparameters of <see cref="NearestCentroidTrainer"/>, declared once in a schema.</summary>
public sealed record NearestCentroidOptions
{
    /// <summary>Softmax temperature over the negative squared distances to the class means.</summary>
    public double Temperature { get; init; } = 4;

    /// <summary>Parsing, checks, results.json and the model file's hyperparameter block all derive from this.</summary>
    public static HyperparameterSchema<NearestCentroidOptions> Schema { get; } = new HyperparameterSchema<NearestCentroidOptions>(new())
        .Double("temperature", o => o.Temperature, (o, v) => o with { Temperature = v }, "softmax temperature of the negative squared distances", above: 0);

    /// <summary>The catalog entry: name, description, schema, factory and model reader.</summary>
    public static TrainerRegistration Registration { get; } = TrainerRegistration.For(
        "centroid", "nearest class mean (a trainer defined outside the library)", Schema,
        options => new NearestCentroidTrainer(options), NearestCentroidModel.Read);
}

/// <summary>A trainer written against the library's contract: each class is represented by its mean image.</summary>
public sealed class NearestCentroidTrainer(NearestCentroidOptions options) : ITrainer
{
    /// <inheritdoc/>
    public string Name => "centroid";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object> Hyperparameters => NearestCentroidOptions.Schema.ToDictionary(options);

    /// <inheritdoc/>
    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!train.HasLabels || train.Count == 0) throw new ArgumentException("The training data must be labelled and non-empty.", nameof(train));
        int classes = DigitDataView.ClassCount, pixels = train.PixelCount;
        var means = new float[classes * pixels];
        var counts = new int[classes];
        for (int i = 0; i < train.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int label = train.GetLabel(i);
            counts[label]++;
            var image = train.GetImage(i);
            var mean = means.AsSpan(label * pixels, pixels);
            for (int p = 0; p < pixels; p++) mean[p] += image[p];
        }
        for (int c = 0; c < classes; c++)
            for (int p = 0; p < pixels; p++)
                means[c * pixels + p] /= Math.Max(1, counts[c]);
        progress?.Report(new TrainingProgress(1, "class means", Milestone: true));
        return new NearestCentroidModel(options, train.Height, train.Width, means);
    }
}

/// <summary>The fitted class means; probabilities are a softmax of negative squared distances (not calibrated).</summary>
public sealed class NearestCentroidModel(NearestCentroidOptions options, int height, int width, float[] means) : ITrainedModel
{
    /// <inheritdoc/>
    public string TrainerName => "centroid";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object> Hyperparameters => NearestCentroidOptions.Schema.ToDictionary(options);

    /// <inheritdoc/>
    public bool HasCalibratedProbabilities => false;

    /// <inheritdoc/>
    public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
    {
        IncompatibleDataException.ThrowIfPixelCount(height * width, data);
        int classes = DigitDataView.ClassCount, pixels = height * width;
        Span<double> scores = stackalloc double[classes];
        for (int i = 0; i < data.Count; i++)
        {
            var image = data.GetImage(i);
            for (int c = 0; c < classes; c++)
            {
                var mean = means.AsSpan(c * pixels, pixels);
                double distance = 0;
                for (int p = 0; p < pixels; p++) distance += (image[p] - mean[p]) * (image[p] - mean[p]);
                scores[c] = -distance / options.Temperature;
            }
            double max = double.NegativeInfinity, sum = 0;
            foreach (double s in scores) max = Math.Max(max, s);
            for (int c = 0; c < classes; c++) sum += scores[c] = Math.Exp(scores[c] - max);
            for (int c = 0; c < classes; c++) probabilities[i * classes + c] = (float)(scores[c] / sum);
        }
    }

    /// <inheritdoc/>
    public void WritePayload(BinaryWriter writer)
    {
        NearestCentroidOptions.Schema.Write(writer, options);
        writer.Write(height);
        writer.Write(width);
        foreach (float m in means) writer.Write(m);
    }

    /// <summary>Reads what <see cref="WritePayload"/> wrote (the catalog's model reader).</summary>
    public static NearestCentroidModel Read(BinaryReader reader)
    {
        var options = NearestCentroidOptions.Schema.Read(reader);
        int height = reader.ReadInt32(), width = reader.ReadInt32();
        var means = new float[DigitDataView.ClassCount * height * width];
        for (int i = 0; i < means.Length; i++) means[i] = reader.ReadSingle();
        return new NearestCentroidModel(options, height, width, means);
    }
}
