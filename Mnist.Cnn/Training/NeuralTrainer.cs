using Mnist.Core.Numerics;
using System.Diagnostics;
using Mnist.Cnn.Augmentation;
using Mnist.Cnn.Backends.Own;
using Mnist.Cnn.Callbacks;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using Mnist.Cnn.Optimizers;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Cnn.Training;

/// <summary>
/// Trains a network by mini-batch gradient descent: shuffled batches (seeded), optional on-the-fly
/// augmentation, a learning-rate schedule, and callbacks (best checkpoint, early stopping,
/// reduce-on-plateau), recording a per-epoch <see cref="TrainingHistory"/>. The backend only runs the
/// network's forward and backward passes; all of this, the loss and the optimizer's update are shared.
/// </summary>
/// <remarks>
/// Every epoch's shuffling, dropout masks and augmentation derive only from (seed, epoch), so with a
/// <see cref="TrainingCheckpoint"/> the trainer saves weights, layer state, optimizer state, callback
/// state and history at each epoch end, and a fit that finds the checkpoint continues with the next
/// epoch and ends with exactly the model of an uninterrupted fit.
/// </remarks>
/// <param name="name">The catalog name.</param>
/// <param name="architecture">The network for an input shape (its dense layers are sized when it is built).</param>
/// <param name="options">The hyperparameters.</param>
/// <param name="backend">The engine that runs the network.</param>
public sealed class NeuralTrainer(string name, Func<TensorShape, NetworkSpec> architecture, NeuralTrainerOptions options, NeuralBackend backend = NeuralBackend.Own)
    : ICheckpointingTrainer
{
    private const int CheckpointVersion = 3; // 3: the best-model checkpoint keeps its epoch's loss, for ties

    public string Name { get; } = name;
    public NeuralTrainerOptions Options { get; } = Checked(options, backend, name);
    public IReadOnlyDictionary<string, object> Hyperparameters => NeuralTrainerOptions.Schema.ToDictionary(Options);
    public NeuralBackend Backend { get; } = backend;

    /// <summary>The options, range-checked; 'winograd' chooses our engine's kernels, so LibTorch's trainers refuse it off.</summary>
    private static NeuralTrainerOptions Checked(NeuralTrainerOptions options, NeuralBackend backend, string name)
    {
        NeuralTrainerOptions.Schema.Validate(options);
        if (!options.Winograd && backend == NeuralBackend.Torch)
            throw new ArgumentException($"Hyperparameter 'winograd' chooses our engine's convolution kernels; '{name}' runs LibTorch's, so it cannot be false.");
        return options;
    }

    /// <summary>Builds the network for the images (any size its convolutions and pools fit) and checks that the backend runs here.</summary>
    public void CheckImageSize(int height, int width)
    {
        Backend.EnsureAvailable($"trainer '{Name}'");
        Spec(height, width);
    }

    /// <summary>The network for height × width × 1 images, with its layers' shapes checked (our layers initialised from the seed).</summary>
    private (NetworkSpec Spec, Sequential Weights) Spec(int height, int width)
    {
        var spec = architecture(new TensorShape(height, width, 1));
        try
        {
            return (spec, OwnBackend.Build(spec, Options.Seed, winograd: Options.Winograd));
        }
        catch (ArgumentException e) when (e is not IncompatibleDataException)
        {
            throw new IncompatibleDataException($"the {Name} network does not fit {height}×{width} images ({e.Message.TrimEnd('.')})");
        }
    }

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        FitCore(train, validation, progress, cancellationToken, checkpoint: null);

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, TrainingCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return FitCore(train, validation, progress, cancellationToken, checkpoint);
    }

    private ITrainedModel FitCore(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, TrainingCheckpoint? checkpoint)
    {
        validation = FitArguments.Check(train, validation);
        Backend.EnsureAvailable($"trainer '{Name}'");
        var (spec, model) = Spec(train.Height, train.Width);
        var network = Backend.Bind(spec, model);
        int classes = model.OutputShape.Size;
        int batchSize = Math.Min(Options.BatchSize, train.Count);

        var optimizer = Optimizer.Create(Options.Optimizer, Options.LearningRate, Options.Momentum, Options.WeightDecay);
        var state = new TrainingState(model, optimizer);
        var average = Options.Ema > 0 ? new WeightAverage(model, Options.Ema) : null;
        var callbacks = new List<Callback>();
        if (validation is not null) callbacks.Add(new BestModelCheckpoint());
        if (Options.Patience > 0) callbacks.Add(new EarlyStopping(Options.Patience));
        if (Options.Schedule == LearningRateSchedule.Plateau) callbacks.Add(new ReduceLearningRateOnPlateau());
        foreach (var callback in callbacks) callback.OnTrainBegin(state);

        var history = new TrainingHistory();
        var augmentation = Options.Augment
            ? new RandomAffine(Options.Rotation, Options.Zoom, Options.Shift, Options.Elastic > 0 ? new ElasticDistortion(Options.Elastic, Options.ElasticSigma) : null)
            : null;
        var augmented = new float[batchSize * train.PixelCount];
        var logitGradient = new float[batchSize * classes];
        var dropouts = model.Layers.OfType<Dropout>().ToArray();
        int batchesPerEpoch = (train.Count + batchSize - 1) / batchSize;
        long totalSteps = (long)batchesPerEpoch * Options.Epochs;
        long step = 0;
        int completedEpochs = 0;

        var shape = CheckpointDataShape.Of(train, validation);
        if (checkpoint is { Exists: true })
        {
            (completedEpochs, step) = checkpoint.Load(reader => ReadCheckpoint(reader, shape, state, average, callbacks, history));
            progress?.Report(new TrainingProgress((double)step / totalSteps, $"resumed after epoch {completedEpochs}/{Options.Epochs}"));
        }

        for (int epoch = completedEpochs + 1; epoch <= Options.Epochs && !state.StopTraining; epoch++)
        {
            var watch = Stopwatch.StartNew();
            int epochSeed = Seeds.Derive(Options.Seed, epoch);
            for (int d = 0; d < dropouts.Length; d++) dropouts[d].Reseed(Seeds.Derive(epochSeed, d));
            double lossSum = 0;
            long correct = 0;
            int batchIndex = 0;
            // The last CleanEpochs epochs fit the original images, as the test set shows them.
            var epochAugmentation = epoch <= Options.Epochs - Options.CleanEpochs ? augmentation : null;
            foreach (var batch in train.ShuffledBatches(batchSize, new Random(epochSeed)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Options.Schedule != LearningRateSchedule.Plateau) optimizer.LearningRate = Options.ScheduledRate((double)step / totalSteps);
                ReadOnlySpan<float> input = batch.Pixels;
                if (epochAugmentation is not null)
                {
                    Augment(epochAugmentation, batch, augmented, train.Height, train.Width, epochSeed);
                    input = augmented.AsSpan(0, batch.Count * train.PixelCount);
                }
                ReadOnlySpan<float> logits = network.Forward(input, batch.Count, training: true);
                var (loss, right) = SoftmaxCrossEntropy.Compute(logits, batch.Labels, classes, Options.LabelSmoothing, logitGradient);
                network.Backward(input, logitGradient.AsSpan(0, batch.Count * classes), batch.Count);
                optimizer.Step(model.Parameters);
                average?.Update();
                lossSum += loss;
                correct += right;
                step++;
                batchIndex++;
                if (progress is not null && (batchIndex % 20 == 0 || batchIndex == batchesPerEpoch))
                    progress.Report(new TrainingProgress((double)step / totalSteps, $"epoch {epoch}/{Options.Epochs}, batch {batchIndex}/{batchesPerEpoch}"));
            }

            double trainSeconds = watch.Elapsed.TotalSeconds;
            // The average is what gets evaluated and what the best-model checkpoint keeps; training goes on from the live weights.
            average?.Swap();
            double? validationLoss = null, validationAccuracy = null;
            if (validation is not null)
                (validationLoss, validationAccuracy) = Measure(network, validation);
            var record = new EpochRecord(epoch, lossSum / train.Count, (double)correct / train.Count, validationLoss, validationAccuracy,
                optimizer.LearningRate, watch.Elapsed.TotalSeconds, train.Count / trainSeconds);
            history.Add(record);
            foreach (var callback in callbacks) callback.OnEpochEnd(state, record);
            average?.Swap();
            // Saved before the "done" report, so whoever sees "epoch N done" can count on its checkpoint.
            int savedEpoch = epoch;
            long savedStep = step;
            checkpoint?.Save(writer => WriteCheckpoint(writer, shape, savedEpoch, savedStep, state, average, callbacks, history));
            progress?.Report(new TrainingProgress((double)step / totalSteps, $"epoch {epoch}/{Options.Epochs} done", record, Milestone: true));
        }
        average?.Swap();
        foreach (var callback in callbacks) callback.OnTrainEnd(state);
        model.ReleaseScratch();
        return new NeuralModel(Name, spec, Backend, model, network, Options, history, state.StopReason);
    }

    private static void WriteCheckpoint(BinaryWriter writer, CheckpointDataShape shape, int epoch, long step, TrainingState state, WeightAverage? average,
        List<Callback> callbacks, TrainingHistory history)
    {
        writer.Write(CheckpointVersion);
        shape.Write(writer);
        writer.Write(epoch);
        writer.Write(step);
        writer.Write(state.StopTraining);
        writer.Write(state.StopReason ?? "");
        StateIO.WriteArrays(writer, ModelWeights.Snapshot(state.Model));
        state.Optimizer.SaveState(writer, state.Model.Parameters.ToList());
        writer.Write(average is not null);
        average?.Save(writer);
        writer.Write(callbacks.Count);
        foreach (var callback in callbacks)
        {
            writer.Write(callback.GetType().Name);
            callback.SaveState(writer);
        }
        writer.Write(history.Epochs.Count);
        foreach (var e in history.Epochs)
        {
            writer.Write(e.Epoch);
            writer.Write(e.TrainLoss);
            WriteNullable(writer, e.TrainAccuracy);
            WriteNullable(writer, e.ValidationLoss);
            WriteNullable(writer, e.ValidationAccuracy);
            writer.Write(e.LearningRate);
            writer.Write(e.Seconds);
            writer.Write(e.ImagesPerSecond);
        }
    }

    /// <summary>Restores a checkpoint into the fresh model, optimizer and callbacks; returns (completed epochs, steps).</summary>
    private (int Epoch, long Step) ReadCheckpoint(BinaryReader reader, CheckpointDataShape shape, TrainingState state, WeightAverage? average,
        List<Callback> callbacks, TrainingHistory history)
    {
        int version = reader.ReadInt32();
        if (version != CheckpointVersion) throw new InvalidDataException($"unsupported {Name} checkpoint version {version}");
        shape.ReadAndCheck(reader);
        int epoch = reader.ReadInt32();
        long step = reader.ReadInt64();
        if (epoch < 1 || epoch > Options.Epochs) throw new InvalidDataException($"checkpoint epoch {epoch} is outside 1..{Options.Epochs}");
        state.StopTraining = reader.ReadBoolean();
        string reason = reader.ReadString();
        state.StopReason = reason.Length == 0 ? null : reason;
        ModelWeights.Restore(state.Model, StateIO.ReadArrays(reader, ModelWeights.Snapshot(state.Model)));
        state.Optimizer.LoadState(reader, state.Model.Parameters.ToList());
        bool averaged = reader.ReadBoolean();
        if (averaged != average is not null) throw new InvalidDataException(averaged ? "the checkpoint has a weight average; this fit has none" : "the checkpoint has no weight average; this fit has one");
        average?.Load(reader);
        int count = reader.ReadInt32();
        if (count != callbacks.Count) throw new InvalidDataException($"{count} callback states, this fit has {callbacks.Count} callbacks");
        foreach (var callback in callbacks)
        {
            string kind = reader.ReadString();
            if (kind != callback.GetType().Name) throw new InvalidDataException($"callback state of {kind} where {callback.GetType().Name} is expected");
            callback.LoadState(reader, state);
        }
        int records = reader.ReadInt32();
        if (records < 0 || records > epoch) throw new InvalidDataException($"{records} history records after {epoch} epochs");
        for (int i = 0; i < records; i++)
            history.Add(new EpochRecord(reader.ReadInt32(), reader.ReadDouble(), ReadNullable(reader), ReadNullable(reader), ReadNullable(reader),
                reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble()));
        return (epoch, step);
    }

    private static void WriteNullable(BinaryWriter writer, double? value)
    {
        writer.Write(value.HasValue);
        if (value is double v) writer.Write(v);
    }

    private static double? ReadNullable(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadDouble() : null;

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
    private static (double Loss, double Accuracy) Measure(INetwork network, DigitDataView data)
    {
        int classes = network.Host.OutputShape.Size;
        var probabilities = new float[data.Count * classes];
        network.PredictProbabilities(data, probabilities);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var row = probabilities.AsSpan(i * classes, classes);
            int label = data.GetLabel(i);
            loss += Kernels.LogLoss(row[label]);
            if (Kernels.ArgMax(row) == label) correct++;
        }
        return (loss / data.Count, (double)correct / data.Count);
    }
}
