using Mnist.Core.Training;

namespace Mnist.Cnn.Training;

/// <summary>
/// Hyperparameters of a neural trainer. The property names map to the kebab-case names used by
/// <c>--param</c>, grid search and results.json (see <see cref="ToDictionary"/>).
/// </summary>
public sealed record NeuralTrainerOptions
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>adam, adamw, sgd, nesterov or rmsprop.</summary>
    public string Optimizer { get; init; } = "adam";
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; }
    /// <summary>none, cosine, onecycle or plateau (reduce-LR-on-plateau).</summary>
    public string Schedule { get; init; } = "cosine";
    public bool Augment { get; init; }
    public double Rotation { get; init; } = 10;
    public double Zoom { get; init; } = 0.1;
    public double Shift { get; init; } = 0.1;
    public double LabelSmoothing { get; init; }
    /// <summary>Early-stopping patience in epochs on validation accuracy; 0 turns early stopping off.</summary>
    public int Patience { get; init; }
    public int Seed { get; init; } = 42;

    public static NeuralTrainerOptions Read(TrainerParameters p, NeuralTrainerOptions defaults)
    {
        var options = new NeuralTrainerOptions
        {
            Epochs = p.Int("epochs", defaults.Epochs),
            BatchSize = p.Int("batch-size", defaults.BatchSize),
            LearningRate = p.Double("learning-rate", defaults.LearningRate),
            Optimizer = p.String("optimizer", defaults.Optimizer).ToLowerInvariant(),
            Momentum = p.Double("momentum", defaults.Momentum),
            WeightDecay = p.Double("weight-decay", defaults.WeightDecay),
            Schedule = p.String("schedule", defaults.Schedule).ToLowerInvariant(),
            Augment = p.Bool("augment", defaults.Augment),
            Rotation = p.Double("rotation", defaults.Rotation),
            Zoom = p.Double("zoom", defaults.Zoom),
            Shift = p.Double("shift", defaults.Shift),
            LabelSmoothing = p.Double("label-smoothing", defaults.LabelSmoothing),
            Patience = p.Int("patience", defaults.Patience),
            Seed = p.Int("seed", defaults.Seed),
        };
        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException("Hyperparameter 'epochs' must be at least 1.");
        if (BatchSize < 1) throw new ArgumentException("Hyperparameter 'batch-size' must be at least 1.");
        if (!(LearningRate > 0)) throw new ArgumentException("Hyperparameter 'learning-rate' must be positive.");
        if (LabelSmoothing is < 0 or >= 1) throw new ArgumentException("Hyperparameter 'label-smoothing' must be in [0, 1).");
        if (Schedule is not ("none" or "cosine" or "onecycle" or "plateau"))
            throw new ArgumentException($"Unknown schedule '{Schedule}' (none, cosine, onecycle, plateau).");
        _ = Optimizers.Optimizer.Create(Optimizer, LearningRate, Momentum, WeightDecay);
    }

    public IReadOnlyDictionary<string, object> ToDictionary() => new Dictionary<string, object>
    {
        ["epochs"] = Epochs,
        ["batch-size"] = BatchSize,
        ["learning-rate"] = LearningRate,
        ["optimizer"] = Optimizer,
        ["momentum"] = Momentum,
        ["weight-decay"] = WeightDecay,
        ["schedule"] = Schedule,
        ["augment"] = Augment,
        ["rotation"] = Rotation,
        ["zoom"] = Zoom,
        ["shift"] = Shift,
        ["label-smoothing"] = LabelSmoothing,
        ["patience"] = Patience,
        ["seed"] = Seed,
    };

    /// <summary>The learning rate at training progress <paramref name="t"/> ∈ [0,1] (per step), for the non-plateau schedules.</summary>
    public double ScheduledRate(double t) => Schedule switch
    {
        "cosine" => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * t)),
        // One-cycle: linear warm-up from lr/25 over the first 30 %, then cosine annealing towards zero.
        "onecycle" => t < 0.3
            ? LearningRate * (0.04 + 0.96 * t / 0.3)
            : LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (t - 0.3) / 0.7)),
        _ => LearningRate,
    };
}
