using Mnist.Cnn.Optimizers;
using Mnist.Core.Training;

namespace Mnist.Cnn.Training;

/// <summary>How the learning rate moves over training.</summary>
public enum LearningRateSchedule
{
    /// <summary>Constant.</summary>
    None,
    /// <summary>Cosine annealing from the learning rate towards zero.</summary>
    Cosine,
    /// <summary>Linear warm-up from lr/25 over the first <see cref="NeuralTrainerOptions.Warmup"/> of training (30 %), then cosine annealing.</summary>
    OneCycle,
    /// <summary>Reduce on plateau of the validation loss (a callback).</summary>
    Plateau,
}

/// <summary>
/// Hyperparameters of a neural trainer, declared once in <see cref="Schema"/>; each catalog network has
/// its own defaults (<see cref="Schema"/>.<see cref="HyperparameterSchema{TOptions}.WithDefaults"/>).
/// A hyperparameter added later defaults to "off" here: model files written before it read it from these defaults.
/// </summary>
public sealed record NeuralTrainerOptions
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; }
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;
    public double Warmup { get; init; } = 0.3;
    public bool Augment { get; init; }
    public double Rotation { get; init; } = 10;
    public double Zoom { get; init; } = 0.1;
    public double Shift { get; init; } = 0.1;
    /// <summary>Scale of the elastic distortion in pixels (0 = off); see <see cref="Augmentation.ElasticDistortion"/>.</summary>
    public double Elastic { get; init; }
    public double ElasticSigma { get; init; } = 4;
    /// <summary>The last this many epochs train on the original images, without augmentation (0 = augment every epoch).</summary>
    public int CleanEpochs { get; init; }
    public double LabelSmoothing { get; init; }
    /// <summary>Decay of the moving average of the weights that is evaluated and kept (0 = off, the live weights).</summary>
    public double Ema { get; init; }
    /// <summary>Early-stopping patience in epochs on validation accuracy; 0 turns early stopping off.</summary>
    public int Patience { get; init; }
    /// <summary>Test-time augmentation: predictions averaged over each image and this many small seeded affine variants (0 = off).</summary>
    public int Tta { get; init; }
    public bool Winograd { get; init; } = true;
    public int Seed { get; init; } = 42;

    public static HyperparameterSchema<NeuralTrainerOptions> Schema { get; } = new HyperparameterSchema<NeuralTrainerOptions>(new())
        .Int("epochs", o => o.Epochs, (o, v) => o with { Epochs = v }, "passes over the training images", min: 1)
        .Int("batch-size", o => o.BatchSize, (o, v) => o with { BatchSize = v }, "images per gradient step", min: 1)
        .Double("learning-rate", o => o.LearningRate, (o, v) => o with { LearningRate = v }, "peak learning rate", above: 0)
        .Choice("optimizer", o => o.Optimizer, (o, v) => o with { Optimizer = v }, "the update rule",
            ("adam", OptimizerKind.Adam), ("adamw", OptimizerKind.AdamW), ("sgd", OptimizerKind.Sgd), ("nesterov", OptimizerKind.Nesterov), ("rmsprop", OptimizerKind.RmsProp))
        .Double("momentum", o => o.Momentum, (o, v) => o with { Momentum = v }, "momentum of sgd and nesterov", min: 0, below: 1)
        .Double("weight-decay", o => o.WeightDecay, (o, v) => o with { WeightDecay = v }, "L2 weight decay (decoupled for adamw)", min: 0)
        .Choice("schedule", o => o.Schedule, (o, v) => o with { Schedule = v }, "learning-rate schedule",
            ("none", LearningRateSchedule.None), ("cosine", LearningRateSchedule.Cosine), ("onecycle", LearningRateSchedule.OneCycle), ("plateau", LearningRateSchedule.Plateau))
        .Double("warmup", o => o.Warmup, (o, v) => o with { Warmup = v }, "onecycle: share of training spent warming up from lr/25", min: 0, below: 1)
        .Bool("augment", o => o.Augment, (o, v) => o with { Augment = v }, "random affine augmentation of each batch")
        .Double("rotation", o => o.Rotation, (o, v) => o with { Rotation = v }, "augmentation: largest rotation in degrees", min: 0, max: 180)
        .Double("zoom", o => o.Zoom, (o, v) => o with { Zoom = v }, "augmentation: largest relative zoom", min: 0, below: 1)
        .Double("shift", o => o.Shift, (o, v) => o with { Shift = v }, "augmentation: largest shift as a share of the image side", min: 0, below: 1)
        .Double("elastic", o => o.Elastic, (o, v) => o with { Elastic = v },
            "augmentation: scale in pixels of an elastic distortion applied after the affine one (0 = off)", min: 0, max: 1000)
        .Double("elastic-sigma", o => o.ElasticSigma, (o, v) => o with { ElasticSigma = v }, "augmentation: smoothing of the elastic distortion, in pixels", above: 0, max: Augmentation.ElasticDistortion.MaxSigma)
        .Int("clean-epochs", o => o.CleanEpochs, (o, v) => o with { CleanEpochs = v }, "augmentation: the last N epochs train on the original images (0 = augment every epoch)", min: 0)
        .Double("label-smoothing", o => o.LabelSmoothing, (o, v) => o with { LabelSmoothing = v }, "share of the target spread over all classes", min: 0, below: 1)
        .Double("ema", o => o.Ema, (o, v) => o with { Ema = v },
            "decay of an exponential moving average of the weights, evaluated each epoch and kept as the model (0 = off)", min: 0, below: 1)
        .Int("patience", o => o.Patience, (o, v) => o with { Patience = v }, "early stopping after this many epochs without a better validation accuracy (0 = off)", min: 0)
        .Int("tta", o => o.Tta, (o, v) => o with { Tta = v }, "test-time augmentation: predictions averaged over each image and N small seeded affine variants (0 = off)", min: 0, max: 64)
        .Bool("winograd", o => o.Winograd, (o, v) => o with { Winograd = v },
            "own engine: Winograd convolutions where they fit (5×5 and 3×3 'same', channels and filters multiples of 16); false = direct kernels everywhere")
        .Seed(o => o.Seed, (o, v) => o with { Seed = v }, "seed of initialisation, shuffling, dropout and augmentation");

    /// <summary>The learning rate at training progress <paramref name="t"/> ∈ [0,1] (per step), for the non-plateau schedules.</summary>
    public double ScheduledRate(double t) => Schedule switch
    {
        LearningRateSchedule.Cosine => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * t)),
        // One-cycle: linear warm-up from lr/25 over the first Warmup share, then cosine annealing towards zero.
        LearningRateSchedule.OneCycle => t < Warmup
            ? LearningRate * (0.04 + 0.96 * t / Warmup)
            : LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (t - Warmup) / (1 - Warmup))),
        _ => LearningRate,
    };
}
