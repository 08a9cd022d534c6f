using System.Text.Json.Serialization;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Core.Reporting;

/// <summary>
/// Everything one experiment run (compare, and later kaggle/cv/grid) reports: the settings, the
/// machine and one <see cref="ModelResult"/> per trained model. Serialized as results.json by
/// <see cref="ResultsJsonWriter"/> and rendered as report.md by <see cref="MarkdownReportWriter"/>.
/// </summary>
/// <remarks>
/// The property names of the first block (version … models, and the contract fields of
/// <see cref="ModelResult"/>) are a published contract: add fields freely, never rename these.
/// </remarks>
public sealed record ExperimentResults
{
    /// <summary>Informational version of the software that produced the results.</summary>
    public required string Version { get; init; }
    /// <summary>The run's base seed.</summary>
    public required int Seed { get; init; }
    /// <summary>The thread bound the run used (<see cref="Numerics.ComputeSettings.Threads"/>).</summary>
    public required int Threads { get; init; }
    /// <summary>Images the models were fitted on (after the limit and the validation split).</summary>
    public required int TrainCount { get; init; }
    /// <summary>Images held out for validation; 0 when there is no validation set.</summary>
    public required int ValidationCount { get; init; }
    /// <summary>Test images (labelled or not); 0 when the data has no test set.</summary>
    public required int TestCount { get; init; }

    // ---- extras (free to extend) ----
    /// <summary>Which command produced the results, e.g. "compare".</summary>
    public string Kind { get; init; } = "compare";
    /// <summary>When the results were produced (UTC).</summary>
    public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;
    /// <summary>The command line as typed (for reproducing the run).</summary>
    public string? Command { get; init; }
    /// <summary>The data folder that was read.</summary>
    public string? DataFolder { get; init; }
    /// <summary>"mnist-idx" or "kaggle-csv".</summary>
    public string? DataFormat { get; init; }
    /// <summary>The data files that were read.</summary>
    public IReadOnlyList<string> DataFiles { get; init; } = [];
    /// <summary>Whether the test set has labels (false for Kaggle's test.csv).</summary>
    public bool TestHasLabels { get; init; }
    /// <summary>The fraction of the training data held out for validation.</summary>
    public double ValidationFraction { get; init; }
    /// <summary>The cap on training images, when one was given.</summary>
    public int? TrainLimit { get; init; }
    /// <summary>The cap on test images, when one was given.</summary>
    public int? TestLimit { get; init; }
    [JsonInclude] internal MachineInfo? Machine { get; init; }
    /// <summary>Peak resident memory of the process that produced the results, in bytes, when measured (the runner does, on Linux).</summary>
    public long? PeakWorkingSetBytes { get; init; }

    /// <summary>
    /// The resolved options of the run (command line over config file over defaults), keyed by option
    /// name without dashes: a valid <c>--config</c> file for re-running the same experiment.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Configuration { get; init; }
    /// <summary>The <c>--config</c> file the run read, if any.</summary>
    public string? ConfigFile { get; init; }
    /// <summary>Set by <c>mnist cv</c>.</summary>
    [JsonInclude] internal CrossValidationResult? CrossValidation { get; init; }
    /// <summary>Set by <c>mnist grid</c>.</summary>
    [JsonInclude] internal GridSearchResult? GridSearch { get; init; }
    /// <summary>Set by one shard of a sharded <c>grid</c> or <c>cv</c> (<c>--shard K/N</c>): its trials, for <c>mnist merge</c>.</summary>
    [JsonInclude] internal ShardResult? Shard { get; init; }
    /// <summary>Set by <c>mnist compare --repeat S</c> (S ≥ 2): each trainer's accuracies over S seeds.</summary>
    [JsonInclude] internal RepeatResult? Repeats { get; init; }
    /// <summary>Set by <c>mnist kaggle</c>.</summary>
    [JsonInclude] internal SubmissionResult? Submission { get; init; }
    /// <summary>True when the run was stopped (Ctrl+C, SIGTERM) before every trainer finished: <see cref="Models"/> holds the finished ones.</summary>
    public bool Interrupted { get; init; }
    /// <summary>For an interrupted run: which trainers finished, which was in progress, and how to resume.</summary>
    [JsonInclude] internal InterruptionInfo? Interruption { get; init; }
    /// <summary>The pictures written beside report.md (relative file names).</summary>
    [JsonInclude] internal IReadOnlyList<ReportFigure> Figures { get; init; } = [];

    /// <summary>One result per trained model, in training order.</summary>
    public required IReadOnlyList<ModelResult> Models { get; init; }
}

/// <summary>One trained model's figures. Accuracies are fractions in [0,1].</summary>
public sealed record ModelResult
{
    /// <summary>The trainer's catalog name.</summary>
    public required string Trainer { get; init; }
    /// <summary>The engine that did the numerical work: "own" or, e.g., "ML.NET 5.0.1" (see <see cref="ITrainedModel.Engine"/>).</summary>
    public string Engine { get; init; } = Training.TrainerRegistration.OwnEngine;
    /// <summary>The hyperparameters the model was trained with, sorted by name.</summary>
    public required IReadOnlyDictionary<string, object> Hyperparameters { get; init; }
    /// <summary>Accuracy on the training images.</summary>
    public required double TrainAccuracy { get; init; }
    /// <summary>Null when there is no validation set.</summary>
    public required double? ValidationAccuracy { get; init; }
    /// <summary>Null when there is no test set or its labels are unknown.</summary>
    public required double? TestAccuracy { get; init; }
    /// <summary>Seconds spent in <see cref="Training.ITrainer.Fit"/>.</summary>
    public required double FitSeconds { get; init; }
    /// <summary>Seconds to predict the <see cref="PredictSet"/> (the test set when there is one).</summary>
    public required double PredictSeconds { get; init; }
    /// <summary>Rows = true class, columns = predicted, on the <see cref="EvaluationSet"/>.</summary>
    public required int[][] ConfusionMatrix { get; init; }

    // ---- extras ----
    /// <summary>The set the confusion matrix and per-class figures come from.</summary>
    public DataSplit EvaluationSet { get; init; } = DataSplit.Test;
    /// <summary>The set <see cref="PredictSeconds"/> was measured on.</summary>
    public DataSplit PredictSet { get; init; } = DataSplit.Test;
    /// <summary>Number of images <see cref="PredictSeconds"/> covers.</summary>
    public int PredictCount { get; init; }
    /// <summary>Macro-averaged F1 on the evaluation set.</summary>
    public double MacroF1 { get; init; }
    /// <summary>Mean log-loss on the evaluation set; null without calibrated probabilities.</summary>
    public double? LogLoss { get; init; }
    /// <summary>Mean log-loss on the training images; null without calibrated probabilities.</summary>
    public double? TrainLogLoss { get; init; }
    /// <summary>Mean log-loss on the validation images; null without a validation set or calibrated probabilities.</summary>
    public double? ValidationLogLoss { get; init; }
    /// <summary>Precision, recall, F1 and support per class on the evaluation set.</summary>
    public IReadOnlyList<ClassResult> PerClass { get; init; } = [];
    /// <summary>The most frequent (true, predicted) confusions on the evaluation set, most frequent first.</summary>
    public IReadOnlyList<ConfusedPair> MostConfused { get; init; } = [];
    /// <summary>Peak resident memory of the process from this model's fit to the end of its evaluation, in bytes, when measured.</summary>
    public long? PeakWorkingSetBytes { get; init; }
    /// <summary>Per-epoch records when the trainer keeps a history; otherwise null.</summary>
    public IReadOnlyList<EpochRecord>? History { get; init; }
    /// <summary>The figures of each model this one combines (an ensemble's members, see <see cref="ITrainedModel.Members"/>); null for a single model.</summary>
    public IReadOnlyList<MemberResult>? Members { get; init; }

    /// <summary>
    /// Builds a result from the metrics of each set. The confusion matrix and per-class figures come
    /// from the test metrics when present, else validation, else train.
    /// </summary>
    public static ModelResult Create(
        string trainer,
        IReadOnlyDictionary<string, object> hyperparameters,
        ClassificationMetrics train,
        ClassificationMetrics? validation,
        ClassificationMetrics? test,
        double fitSeconds,
        double predictSeconds,
        DataSplit predictSet,
        int predictCount,
        TrainingHistory? history = null,
        string engine = Training.TrainerRegistration.OwnEngine)
    {
        ArgumentNullException.ThrowIfNull(train);
        var (evaluationSet, metrics) = test is not null ? (DataSplit.Test, test)
            : validation is not null ? (DataSplit.Validation, validation)
            : (DataSplit.Train, train);
        return new ModelResult
        {
            Trainer = trainer,
            Engine = engine,
            Hyperparameters = new SortedDictionary<string, object>(hyperparameters.ToDictionary(), StringComparer.Ordinal),
            TrainAccuracy = train.Accuracy,
            ValidationAccuracy = validation?.Accuracy,
            TestAccuracy = test?.Accuracy,
            FitSeconds = fitSeconds,
            PredictSeconds = predictSeconds,
            ConfusionMatrix = metrics.ConfusionMatrix(),
            EvaluationSet = evaluationSet,
            PredictSet = predictSet,
            PredictCount = predictCount,
            MacroF1 = metrics.MacroF1,
            LogLoss = metrics.LogLoss,
            TrainLogLoss = train.LogLoss,
            ValidationLogLoss = validation?.LogLoss,
            PerClass = metrics.PerClass.Select(c => new ClassResult(c.Class, c.Precision, c.Recall, c.F1, c.Support)).ToList(),
            MostConfused = metrics.MostConfusedPairs().Select(p => new ConfusedPair(p.True, p.Predicted, p.Count)).ToList(),
            History = history is { Epochs.Count: > 0 } ? history.Epochs.ToList() : null,
        };
    }
}

/// <summary>One member of a combined model (an ensemble), evaluated on its own.</summary>
/// <param name="Index">1-based position among the members.</param>
/// <param name="Trainer">The member's trainer.</param>
/// <param name="Engine">The engine that did its numerical work.</param>
/// <param name="Hyperparameters">Its resolved hyperparameters (its derived seed included).</param>
/// <param name="ValidationAccuracy">Null without a validation set.</param>
/// <param name="TestAccuracy">Null without a labelled test set.</param>
public sealed record MemberResult(int Index, string Trainer, string Engine, IReadOnlyDictionary<string, object> Hyperparameters,
    double? ValidationAccuracy, double? TestAccuracy);

/// <summary>Where an interrupted run stopped.</summary>
/// <param name="Finished">Trainers whose results are in the report (and kept for a resume).</param>
/// <param name="InProgress">The trainer that was fitting when the run stopped, or null.</param>
/// <param name="Checkpoint">Its checkpoint file (relative to the report folder), when it keeps one.</param>
/// <param name="NotStarted">Trainers that had not started.</param>
/// <param name="Resume">The command that continues the run.</param>
internal sealed record InterruptionInfo(IReadOnlyList<string> Finished, string? InProgress, string? Checkpoint, IReadOnlyList<string> NotStarted, string Resume);

/// <summary>Precision, recall and F1 of one class on the evaluation set.</summary>
public sealed record ClassResult(int Class, double Precision, double Recall, double F1, int Support);

/// <summary>An off-diagonal confusion-matrix cell: <see cref="Count"/> images of <see cref="True"/> predicted as <see cref="Predicted"/>.</summary>
public sealed record ConfusedPair(int True, int Predicted, int Count);

/// <summary>A picture written beside report.md.</summary>
/// <param name="File">File name relative to the report's folder.</param>
/// <param name="Caption">Alt text and caption.</param>
/// <param name="Kind">What it shows (see <see cref="ReportFigures"/>'s kind constants); places it in the report.</param>
/// <param name="Trainer">The model it belongs to, or null for a picture of the whole run.</param>
internal sealed record ReportFigure(string File, string Caption, string Kind, string? Trainer = null);

/// <summary>What <c>mnist kaggle</c> wrote: the submission file and its predicted class counts.</summary>
internal sealed record SubmissionResult(string Path, int Rows, IReadOnlyList<int> PredictedClassCounts);

/// <summary>Stratified k-fold cross-validation of one or more trainers (<c>mnist cv</c>).</summary>
internal sealed record CrossValidationResult(int Folds, IReadOnlyList<CrossValidationTrainerResult> Trainers);

/// <summary>One trainer's fold accuracies and their mean and sample standard deviation (n − 1).</summary>
internal sealed record CrossValidationTrainerResult
{
    public required string Trainer { get; init; }
    /// <summary>The engine that did the numerical work: "own" or, e.g., "ML.NET 5.0.1".</summary>
    public string Engine { get; init; } = Training.TrainerRegistration.OwnEngine;
    public required IReadOnlyDictionary<string, object> Hyperparameters { get; init; }
    public required IReadOnlyList<double> FoldAccuracies { get; init; }
    public required double MeanAccuracy { get; init; }
    public required double StandardDeviation { get; init; }
    /// <summary>Fit time summed over the folds.</summary>
    public double FitSeconds { get; init; }

    /// <summary>Builds the summary from the per-fold accuracies.</summary>
    public static CrossValidationTrainerResult Create(string trainer, IReadOnlyDictionary<string, object> hyperparameters, IReadOnlyList<double> foldAccuracies, double fitSeconds)
    {
        var (mean, sd) = Statistics.MeanAndSampleStandardDeviation(foldAccuracies);
        return new CrossValidationTrainerResult
        {
            Trainer = trainer,
            Hyperparameters = new SortedDictionary<string, object>(hyperparameters.ToDictionary(), StringComparer.Ordinal),
            FoldAccuracies = foldAccuracies.ToList(),
            MeanAccuracy = mean,
            StandardDeviation = sd,
            FitSeconds = fitSeconds,
        };
    }
}

/// <summary>Every trainer fitted with several seeds on the same split (<c>mnist compare --repeat S</c>).</summary>
/// <param name="Count">Seeds per trainer: the run's --seed, --seed + 1, ..., --seed + S − 1.</param>
/// <param name="Trainers">Each trainer's runs and summary, in run order.</param>
internal sealed record RepeatResult(int Count, IReadOnlyList<RepeatTrainerResult> Trainers);

/// <summary>One fit of a repeated trainer: its seed and accuracies.</summary>
internal sealed record RepeatRun(int Seed, double? ValidationAccuracy, double? TestAccuracy, double FitSeconds);

/// <summary>One trainer's runs over the seeds with the mean and sample standard deviation (n − 1) of its accuracies.</summary>
internal sealed record RepeatTrainerResult
{
    public required string Trainer { get; init; }
    public string Engine { get; init; } = Training.TrainerRegistration.OwnEngine;
    public required IReadOnlyList<RepeatRun> Runs { get; init; }
    /// <summary>Null without a labelled test set.</summary>
    public double? TestMean { get; init; }
    public double? TestStandardDeviation { get; init; }
    /// <summary>Null without a validation set.</summary>
    public double? ValidationMean { get; init; }
    public double? ValidationStandardDeviation { get; init; }
    /// <summary>Mean fit time of one run.</summary>
    public double FitSeconds { get; init; }

    /// <summary>Builds the summary from the runs (in seed order).</summary>
    public static RepeatTrainerResult Create(string trainer, string engine, IReadOnlyList<RepeatRun> runs)
    {
        ArgumentOutOfRangeException.ThrowIfZero(runs.Count);
        (double? Mean, double? Sd) Summary(Func<RepeatRun, double?> accuracy)
        {
            if (runs.Any(r => accuracy(r) is null)) return (null, null);
            var (mean, sd) = Statistics.MeanAndSampleStandardDeviation(runs.Select(r => accuracy(r)!.Value).ToList());
            return (mean, sd);
        }
        var (testMean, testSd) = Summary(r => r.TestAccuracy);
        var (validationMean, validationSd) = Summary(r => r.ValidationAccuracy);
        return new RepeatTrainerResult
        {
            Trainer = trainer,
            Engine = engine,
            Runs = runs.ToList(),
            TestMean = testMean,
            TestStandardDeviation = testSd,
            ValidationMean = validationMean,
            ValidationStandardDeviation = validationSd,
            FitSeconds = runs.Average(r => r.FitSeconds),
        };
    }
}

/// <summary>A hyperparameter grid search of one trainer (<c>mnist grid</c>).</summary>
internal sealed record GridSearchResult
{
    public required string Trainer { get; init; }
    /// <summary>"holdout" (one stratified validation split) or "k-fold".</summary>
    public required string Method { get; init; }
    /// <summary>Folds for k-fold; null for holdout.</summary>
    public int? Folds { get; init; }
    /// <summary>The validation share for holdout; null for k-fold.</summary>
    public double? ValidationFraction { get; init; }
    /// <summary>The grid: each hyperparameter name with the values tried, in the order given.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Parameters { get; init; }
    /// <summary>Every combination, best first.</summary>
    public required IReadOnlyList<GridCandidate> Candidates { get; init; }
    /// <summary>The best combination; the model refitted with it on the whole training set is <see cref="ExperimentResults.Models"/>[0].</summary>
    public GridCandidate? Best => Candidates.Count == 0 ? null : Candidates[0];
}

/// <summary>One combination of a grid search, with its validation score.</summary>
internal sealed record GridCandidate
{
    public required int Rank { get; init; }
    /// <summary>The grid's hyperparameters for this combination, as the trainer resolved them (same names and values as <c>hyperparameters</c>).</summary>
    public required IReadOnlyDictionary<string, object> Parameters { get; init; }
    /// <summary>All resolved hyperparameters of the trainer.</summary>
    public required IReadOnlyDictionary<string, object> Hyperparameters { get; init; }
    /// <summary>Validation accuracy (holdout) or mean fold accuracy (k-fold).</summary>
    public required double Score { get; init; }
    /// <summary>Sample standard deviation over folds; null for holdout.</summary>
    public double? StandardDeviation { get; init; }
    /// <summary>Per-fold accuracies (k-fold) or the single validation accuracy (holdout).</summary>
    public IReadOnlyList<double> FoldAccuracies { get; init; } = [];
    public double FitSeconds { get; init; }
}

/// <summary>Small statistics used by the reports.</summary>
internal static class Statistics
{
    /// <summary>The mean and the sample standard deviation (n − 1; 0 for fewer than two values).</summary>
    public static (double Mean, double StandardDeviation) MeanAndSampleStandardDeviation(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return (double.NaN, double.NaN);
        double mean = values.Average();
        if (values.Count < 2) return (mean, 0);
        double squares = values.Sum(v => (v - mean) * (v - mean));
        return (mean, Math.Sqrt(squares / (values.Count - 1)));
    }
}
