using System.CommandLine;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Runner.Common;
using Mnist.Runner.Compare;
using Mnist.Runner.Merge;
using Spectre.Console;

namespace Mnist.Runner.CrossValidation;

internal sealed record CvOptions(IReadOnlyList<string> Trainers, int Folds, IReadOnlyList<string> Params, SweepSettings Sweep);

/// <summary>
/// <c>mnist cv</c>: stratified k-fold cross-validation of one or more trainers on the training images.
/// Each fold is held out once and never shown to the trainer while it fits; the report gives every
/// fold's accuracy and their mean ± sample standard deviation per trainer. With --shard K/N (or a
/// scheduler's index) it runs only its share of the (trainer, fold) trials, for <c>mnist merge</c>.
/// </summary>
internal sealed class CvCommand : SweepCommandLine<CvOptions>
{
    private readonly Option<string[]> _trainers, _parameters;
    private readonly Option<int> _folds;

    public CvCommand(RunnerEnvironment environment) : base(environment)
    {
        _trainers = Set.Add(CommonOptions.Trainers(environment));
        _folds = Set.Add(CommonOptions.Folds());
        _parameters = Set.Add(CommonOptions.Params());
        Complete("cv", "Stratified k-fold cross-validation of one or more trainers");
    }

    protected override CvOptions Read(ParseResult parseResult, SweepSettings shared) =>
        new(parseResult.GetValue(_trainers) ?? [], parseResult.GetValue(_folds), parseResult.GetValue(_parameters) ?? [], shared);

    /// <summary>Every trial (unsharded), one shard's (<c>--shard</c> or a scheduler's index), or the <paramref name="merged"/> shards': one plan and report for all three.</summary>
    protected override void Run(CvOptions options, ShardSet? merged, MergeRequest? merge)
    {
        int k = options.Folds;
        var settings = options.Sweep;
        int? limit = settings.TrainLimit;
        int runSeed = settings.Seed;
        if (k < 2) throw new UsageException($"--folds must be at least 2, not {k}");
        var shard = settings.CheckAndResolveShard(Environment, merged);
        var catalog = Environment.Catalog;
        var names = TrainerSelection.ResolveNames(catalog, options.Trainers);
        var created = TrainerSelection.Create(catalog, names, options.Params, runSeed);
        if (created.Count == 0) throw new UsageException("no trainers to run: the trainer catalog of this build is empty");
        string dataFolder = ExperimentData.ResolveFolder(Environment, settings.Data);
        string outFolder = settings.OutFolder(Environment, shard);

        int threadCount = ModelFitting.ApplyThreads(settings.Threads);
        var console = Environment.Console;
        var loaded = ExperimentData.Load(dataFolder, limit, null, 0, runSeed).CheckTrainers(created);
        var all = loaded.Train; // no validation split: every training image, in file order
        if (k > all.Count) throw new UsageException($"--folds {k} is more than the {all.Count} training images");
        var sweep = new Sweep(created, names, k);
        SweepOutput.RequireSameTrials(merged, sweep);
        console.WriteLine($"Data: {loaded.Folder} ({loaded.Format}): {all.Count} training images in {k} stratified folds; seed {runSeed}, {threadCount} threads");
        var splits = Splits.StratifiedKFold(all, k, runSeed);

        var trials = merged?.Trials ?? sweep.Run(Environment, shard ?? Shard.Whole,
            f => new FoldViews(all.Subset(splits[f].Train).Materialize(), null, all.Subset(splits[f].Validation).Materialize()));
        var record = ExperimentRecord.Create("cv", settings.Invocation, runSeed, threadCount, loaded, [], 0, limit) with
        {
            TestCount = 0,
            TestHasLabels = false,
        };
        if (shard is not null)
        {
            ShardFolder.Write(Environment, outFolder, record, shard, sweep.TrialCount, trials);
            return;
        }

        var accuracies = names.Select(_ => new double[k]).ToArray();
        var fitSeconds = new double[names.Count];
        foreach (var trial in trials)
        {
            accuracies[sweep.Item(trial.Index)][sweep.Fold(trial.Index)] = trial.Accuracy;
            fitSeconds[sweep.Item(trial.Index)] += trial.FitSeconds;
        }
        var cv = new CrossValidationResult(k, names.Select((n, t) =>
            CrossValidationTrainerResult.Create(n, created[t].Hyperparameters, accuracies[t], fitSeconds[t]) with { Engine = catalog.Find(n).Engine }).ToList());
        var experiment = record with { CrossValidation = cv };
        console.WriteLine();
        console.Write(Table(cv));
        ExperimentReport.Write(outFolder, experiment);
        console.WriteLine($"Wrote {Path.Combine(outFolder, MarkdownReportWriter.FileName)} and {Path.Combine(outFolder, ResultsJsonWriter.FileName)}");
    }

    /// <summary>trainer | mean | std dev | fold 1..K.</summary>
    internal static Table Table(CrossValidationResult cv)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("Trainer");
        table.AddColumn(new TableColumn("Mean acc").RightAligned());
        table.AddColumn(new TableColumn("Std dev").RightAligned());
        for (int f = 1; f <= cv.Folds; f++) table.AddColumn(new TableColumn($"Fold {f}").RightAligned());
        foreach (var t in cv.Trainers)
            table.AddRow([
                new Text(t.Trainer), new Text(MarkdownReportWriter.Percent(t.MeanAccuracy)),
                new Text(MarkdownReportWriter.Points(t.StandardDeviation)),
                .. t.FoldAccuracies.Select(a => new Text(MarkdownReportWriter.Percent(a))),
            ]);
        return table;
    }
}
