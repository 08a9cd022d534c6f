using System.Diagnostics;
using Mnist.Baselines.Common;
using Mnist.Baselines.Optimization;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.LogisticRegression;

/// <summary>Hyperparameters of <see cref="LogisticRegressionTrainer"/>, declared once in <see cref="Schema"/>.</summary>
public sealed record LogisticRegressionOptions
{
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

    public static HyperparameterSchema<LogisticRegressionOptions> Schema { get; } = new HyperparameterSchema<LogisticRegressionOptions>(new())
        .Double("l2", o => o.L2, (o, v) => o with { L2 = v }, "λ of the L2 penalty (λ/2)‖W‖² on the weights (not the bias)", min: 0)
        .Int("max-iterations", o => o.MaxIterations, (o, v) => o with { MaxIterations = v }, "L-BFGS iteration cap", min: 1)
        .Double("tolerance", o => o.Tolerance, (o, v) => o with { Tolerance = v }, "stop when the largest gradient component falls to this", min: 0)
        .Int("memory", o => o.Memory, (o, v) => o with { Memory = v }, "L-BFGS correction pairs kept", min: 1, max: 1000)
        .Seed(o => o.Seed, (o, v) => o with { Seed = v }, "accepted for uniform grids; the fit is deterministic and uses no randomness");
}

/// <summary>
/// Multinomial (softmax) logistic regression with an L2 penalty, fitted on the full batch by L-BFGS
/// with a strong-Wolfe line search. Deterministic: starts from zero and uses no randomness.
/// </summary>
public sealed class LogisticRegressionTrainer(LogisticRegressionOptions options) : SchemaTrainer<LogisticRegressionOptions>(TrainerName, LogisticRegressionOptions.Schema, options)
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

    private protected override ITrainedModel FitChecked(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {

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

}

/// <summary>A fitted softmax regression: probabilities = softmax(X·W + b).</summary>
public sealed class LogisticRegressionModel : LinearModel<LogisticRegressionOptions>
{
    internal LogisticRegressionModel(LogisticRegressionOptions options, LinearWeights weights, TrainingHistory? history) : base(options, weights, history) { }

    /// <inheritdoc />
    public override string TrainerName => LogisticRegressionTrainer.TrainerName;
    private protected override HyperparameterSchema<LogisticRegressionOptions> Schema => LogisticRegressionOptions.Schema;
    /// <inheritdoc />
    public override bool HasCalibratedProbabilities => true;

    /// <summary>Reads a payload written by <see cref="LinearModel{TOptions}.WritePayload"/>.</summary>
    public static LogisticRegressionModel Load(BinaryReader reader)
    {
        var (options, weights) = ReadPayload(reader, LogisticRegressionOptions.Schema, "logreg");
        return new LogisticRegressionModel(options, weights, history: null);
    }
}
