using System.Diagnostics;
using Mnist.Baselines.Common;
using Mnist.Baselines.Optimization;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.LogisticRegression;

/// <summary>Hyperparameters of <see cref="LogisticRegressionTrainer"/>; keys of <see cref="ToDictionary"/> are the --param names.</summary>
public sealed record LogisticRegressionOptions
{
    public const string L2Name = "l2";
    public const string MaxIterationsName = "max-iterations";
    public const string ToleranceName = "tolerance";
    public const string MemoryName = "memory";
    public const string SeedName = "seed";

    /// <summary>λ in (λ/2)‖W‖² added to the mean cross-entropy (the bias is not penalised).</summary>
    public double L2 { get; init; } = 1e-4;

    /// <summary>L-BFGS iteration cap.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Stop early when max |∂f/∂θᵢ| falls to this.</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>L-BFGS memory (correction pairs).</summary>
    public int Memory { get; init; } = 10;

    /// <summary>Accepted for uniform grids; the full-batch fit from W = 0 is deterministic and uses no randomness.</summary>
    public int Seed { get; init; } = 42;

    public static LogisticRegressionOptions FromParameters(TrainerParameters parameters)
    {
        var defaults = new LogisticRegressionOptions();
        var options = new LogisticRegressionOptions
        {
            L2 = parameters.Double(L2Name, defaults.L2),
            MaxIterations = parameters.Int(MaxIterationsName, defaults.MaxIterations),
            Tolerance = parameters.Double(ToleranceName, defaults.Tolerance),
            Memory = parameters.Int(MemoryName, defaults.Memory),
            Seed = parameters.Int(SeedName, defaults.Seed),
        };
        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (!(L2 >= 0) || double.IsInfinity(L2)) throw new ArgumentException($"Hyperparameter '{L2Name}' must be a finite value ≥ 0, not {L2}.");
        if (MaxIterations < 1) throw new ArgumentException($"Hyperparameter '{MaxIterationsName}' must be ≥ 1, not {MaxIterations}.");
        if (!(Tolerance >= 0) || double.IsInfinity(Tolerance)) throw new ArgumentException($"Hyperparameter '{ToleranceName}' must be a finite value ≥ 0, not {Tolerance}.");
        if (Memory < 1 || Memory > 1000) throw new ArgumentException($"Hyperparameter '{MemoryName}' must be in 1..1000, not {Memory}.");
    }

    public IReadOnlyDictionary<string, object> ToDictionary() => new Dictionary<string, object>
    {
        [L2Name] = L2,
        [MaxIterationsName] = MaxIterations,
        [ToleranceName] = Tolerance,
        [MemoryName] = Memory,
        [SeedName] = Seed,
    };

    internal void Write(BinaryWriter writer)
    {
        writer.Write(L2);
        writer.Write(MaxIterations);
        writer.Write(Tolerance);
        writer.Write(Memory);
        writer.Write(Seed);
    }

    internal static LogisticRegressionOptions Read(BinaryReader reader)
    {
        var options = new LogisticRegressionOptions
        {
            L2 = reader.ReadDouble(),
            MaxIterations = reader.ReadInt32(),
            Tolerance = reader.ReadDouble(),
            Memory = reader.ReadInt32(),
            Seed = reader.ReadInt32(),
        };
        return PayloadOptions.Validated(options, o => o.Validate());
    }
}

/// <summary>
/// Multinomial (softmax) logistic regression with an L2 penalty, fitted on the full batch by L-BFGS
/// with a strong-Wolfe line search. Deterministic: starts from zero and uses no randomness.
/// </summary>
public sealed class LogisticRegressionTrainer(LogisticRegressionOptions options) : ITrainer
{
    public const string TrainerName = "logreg";

    /// <summary>
    /// Relative decrease of f below which the fit stops (scipy's default factr 1e7 × machine ε). The
    /// gradient comes from float32 GEMMs, so near the optimum f stalls at rounding level before a tight
    /// gradient tolerance is met; this stops the fit there instead of spending evaluations on line searches.
    /// </summary>
    internal const double FunctionTolerance = 1e7 * 2.220446049250313e-16;

    /// <summary>Evaluations per line search (scipy's maxls is 20; steps of 1 are accepted almost always).</summary>
    internal const int MaxLineSearchEvaluations = 10;

    public LogisticRegressionTrainer() : this(new LogisticRegressionOptions()) { }

    public LogisticRegressionOptions Options { get; } = Validated(options);

    public string Name => TrainerName;

    public IReadOnlyDictionary<string, object> Hyperparameters => Options.ToDictionary();

    public ITrainedModel Fit(
        DigitDataView train,
        DigitDataView? validation = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        validation = FitArguments.Check(train, validation);
        cancellationToken.ThrowIfCancellationRequested();

        var data = train.Materialize();
        var objective = new SoftmaxObjective(data, Options.L2);
        var validationData = validation is { Count: > 0 } ? validation.Materialize() : null;
        int[]? validationLabels = validationData is null ? null : Array.ConvertAll(validationData.GetLabels(), b => (int)b);
        var validationScores = validationData is null ? null : new float[validationData.Count * DigitDataView.ClassCount];

        var history = new TrainingHistory();
        var lbfgsOptions = new LbfgsOptions(
            Memory: Options.Memory,
            MaxIterations: Options.MaxIterations,
            GradientTolerance: Options.Tolerance,
            FunctionTolerance: FunctionTolerance,
            MaxLineSearchEvaluations: MaxLineSearchEvaluations);
        var clock = Stopwatch.StartNew();
        double lastSeconds = 0;
        int lastEvaluations = 1;
        double[]? current = null;

        bool OnIteration(LbfgsIteration state)
        {
            double now = clock.Elapsed.TotalSeconds;
            double seconds = now - lastSeconds;
            int evaluations = state.Evaluations - lastEvaluations;
            lastSeconds = now;
            lastEvaluations = state.Evaluations;
            double? validationLoss = null, validationAccuracy = null;
            if (validationData is not null && current is not null)
                (validationLoss, validationAccuracy) = Validate(objective.ToWeights(current), validationData, validationLabels!, validationScores!);
            var record = new EpochRecord(
                state.Iteration, objective.LastDataLoss, objective.LastAccuracy, validationLoss, validationAccuracy,
                state.Step, seconds, seconds > 0 ? (double)evaluations * data.Count / seconds : 0);
            history.Add(record);
            progress?.Report(new TrainingProgress((double)state.Iteration / Options.MaxIterations, $"L-BFGS iteration {state.Iteration}", record));
            return true;
        }

        // The callback needs the current iterate for validation; wrap the objective to track it.
        GradientFunction function = (x, g) =>
        {
            double value = objective.Evaluate(x, g);
            current ??= new double[x.Length];
            x.CopyTo(current);
            return value;
        };

        var result = Lbfgs.Minimize(function, new double[objective.ParameterCount], lbfgsOptions, OnIteration, cancellationToken);
        var weights = objective.ToWeights(result.Solution);
        progress?.Report(new TrainingProgress(1.0, $"L-BFGS done: {result.Status} after {result.Iterations} iterations, {result.Evaluations} evaluations"));
        return new LogisticRegressionModel(Options, weights, history);
    }

    private static (double Loss, double Accuracy) Validate(LinearWeights weights, DigitDataView data, int[] labels, float[] scores)
    {
        weights.Scores(data, scores);
        Core.Numerics.Kernels.SoftmaxRows(scores, DigitDataView.ClassCount);
        var metrics = Core.Evaluation.Evaluator.FromProbabilities(labels, scores, calibrated: true);
        return (metrics.LogLoss ?? double.NaN, metrics.Accuracy);
    }

    private static LogisticRegressionOptions Validated(LogisticRegressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }
}

/// <summary>A fitted softmax regression: probabilities = softmax(X·W + b).</summary>
public sealed class LogisticRegressionModel : ITrainedModel
{
    private const int PayloadVersion = 1;
    private readonly LinearWeights _weights;

    internal LogisticRegressionModel(LogisticRegressionOptions options, LinearWeights weights, TrainingHistory? history)
    {
        Options = options;
        _weights = weights;
        History = history;
    }

    public LogisticRegressionOptions Options { get; }
    public string TrainerName => LogisticRegressionTrainer.TrainerName;
    public IReadOnlyDictionary<string, object> Hyperparameters => Options.ToDictionary();
    public bool HasCalibratedProbabilities => true;
    public TrainingHistory? History { get; }

    /// <summary>Pixels per image the model expects.</summary>
    public int Features => _weights.Features;

    /// <summary>A copy of the weights (Features × 10, row-major).</summary>
    public float[] GetWeights() => (float[])_weights.Weights.Clone();

    /// <summary>A copy of the 10 biases.</summary>
    public float[] GetBias() => (float[])_weights.Bias.Clone();

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities) => _weights.SoftmaxScores(data, probabilities);

    public void WritePayload(BinaryWriter writer)
    {
        writer.Write(PayloadVersion);
        Options.Write(writer);
        _weights.Write(writer);
    }

    public static LogisticRegressionModel Load(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != PayloadVersion) throw new InvalidDataException($"Unsupported logreg payload version {version}.");
        var options = LogisticRegressionOptions.Read(reader);
        var weights = LinearWeights.Read(reader);
        return new LogisticRegressionModel(options, weights, history: null);
    }
}
