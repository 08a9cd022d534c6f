using System.Diagnostics;
using Mnist.Cnn.Augmentation;
using Mnist.Cnn.Callbacks;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Optimizers;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Cnn.Training;

/// <summary>
/// Trains a <see cref="Sequential"/> network by mini-batch gradient descent: shuffled batches (seeded),
/// optional on-the-fly augmentation, a learning-rate schedule, and callbacks (best checkpoint,
/// early stopping, reduce-on-plateau), recording a per-epoch <see cref="TrainingHistory"/>.
/// </summary>
public sealed class NeuralTrainer(string name, Func<Sequential> architecture, NeuralTrainerOptions options) : ITrainer
{
    public string Name { get; } = name;
    public NeuralTrainerOptions Options { get; } = options;
    public IReadOnlyDictionary<string, object> Hyperparameters => Options.ToDictionary();

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        validation = FitArguments.Check(train, validation);
        var model = architecture().Build(Options.Seed);
        if (model.InputShape.Size != train.PixelCount)
            throw new ArgumentException($"The {Name} architecture expects {model.InputShape} images, the data has {train.Height}×{train.Width}.");
        int classes = model.OutputShape.Size;
        int batchSize = Math.Min(Options.BatchSize, train.Count);
        model.EnsureCapacity(batchSize);

        var optimizer = Optimizer.Create(Options.Optimizer, Options.LearningRate, Options.Momentum, Options.WeightDecay);
        var state = new TrainingState(model, optimizer);
        var callbacks = new List<Callback>();
        if (validation is not null) callbacks.Add(new BestModelCheckpoint());
        if (Options.Patience > 0) callbacks.Add(new EarlyStopping(Options.Patience));
        if (Options.Schedule == "plateau") callbacks.Add(new ReduceLearningRateOnPlateau());
        foreach (var callback in callbacks) callback.OnTrainBegin(state);

        var history = new TrainingHistory();
        var augmentation = Options.Augment ? new RandomAffine(Options.Rotation, Options.Zoom, Options.Shift) : null;
        var augmented = new float[batchSize * train.PixelCount];
        var logitGradient = new float[batchSize * classes];
        var dropouts = model.Layers.OfType<Dropout>().ToArray();
        int batchesPerEpoch = (train.Count + batchSize - 1) / batchSize;
        long totalSteps = (long)batchesPerEpoch * Options.Epochs;
        long step = 0;

        for (int epoch = 1; epoch <= Options.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            int epochSeed = Seeds.Derive(Options.Seed, epoch);
            for (int d = 0; d < dropouts.Length; d++) dropouts[d].Reseed(Seeds.Derive(epochSeed, d));
            double lossSum = 0;
            long correct = 0;
            int batchIndex = 0;
            foreach (var batch in train.ShuffledBatches(batchSize, new Random(epochSeed)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Options.Schedule != "plateau") optimizer.LearningRate = Options.ScheduledRate((double)step / totalSteps);
                ReadOnlySpan<float> input = batch.Pixels;
                if (augmentation is not null)
                {
                    Augment(augmentation, batch, augmented, train.Height, train.Width, epochSeed);
                    input = augmented.AsSpan(0, batch.Count * train.PixelCount);
                }
                ReadOnlySpan<float> logits = model.Forward(input, batch.Count, training: true);
                var (loss, right) = SoftmaxCrossEntropy.Compute(logits, batch.Labels, classes, Options.LabelSmoothing, logitGradient);
                model.Backward(input, logitGradient.AsSpan(0, batch.Count * classes), batch.Count);
                optimizer.Step(model.Parameters);
                lossSum += loss;
                correct += right;
                step++;
                batchIndex++;
                if (progress is not null && (batchIndex % 20 == 0 || batchIndex == batchesPerEpoch))
                    progress.Report(new TrainingProgress((double)step / totalSteps, $"epoch {epoch}/{Options.Epochs}, batch {batchIndex}/{batchesPerEpoch}"));
            }

            double trainSeconds = watch.Elapsed.TotalSeconds;
            double? validationLoss = null, validationAccuracy = null;
            if (validation is not null)
                (validationLoss, validationAccuracy) = Measure(model, validation);
            var record = new EpochRecord(epoch, lossSum / train.Count, (double)correct / train.Count, validationLoss, validationAccuracy,
                optimizer.LearningRate, watch.Elapsed.TotalSeconds, train.Count / trainSeconds);
            history.Add(record);
            foreach (var callback in callbacks) callback.OnEpochEnd(state, record);
            progress?.Report(new TrainingProgress((double)step / totalSteps, $"epoch {epoch}/{Options.Epochs} done", record));
            if (state.StopTraining) break;
        }
        foreach (var callback in callbacks) callback.OnTrainEnd(state);
        return new NeuralModel(Name, model, Hyperparameters, history, state.StopReason);
    }

    private static void Augment(RandomAffine augmentation, MiniBatch batch, float[] destination, int height, int width, int epochSeed)
    {
        int pixels = height * width;
        // Each image's transform depends only on (epoch seed, its position in the data), never on threads.
        WorkSplit.Run(batch.Count, (_, start, end) =>
        {
            for (int i = start; i < end; i++)
                augmentation.Apply(batch.Pixels.Slice(i * pixels, pixels), destination.AsSpan(i * pixels, pixels), height, width,
                    Seeds.Derive(epochSeed, batch.Positions[i]));
        });
    }

    /// <summary>Mean cross-entropy and accuracy of the model on a labelled view.</summary>
    internal static (double Loss, double Accuracy) Measure(Sequential model, DigitDataView data)
    {
        int classes = model.OutputShape.Size;
        var probabilities = new float[data.Count * classes];
        model.PredictProbabilities(data, probabilities);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var row = probabilities.AsSpan(i * classes, classes);
            int label = data.GetLabel(i);
            loss -= Math.Log(Math.Max(row[label], 1e-15));
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row) == label) correct++;
        }
        return (loss / data.Count, (double)correct / data.Count);
    }
}
