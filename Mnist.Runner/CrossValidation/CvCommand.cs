using System.CommandLine;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Runner.Common;
using Mnist.Runner.Compare;
using Mnist.Runner.Merge;
using Spectre.Console;

namespace Mnist.Runner.CrossValidation;

/// <summary>
/// <c>mnist cv</c>: stratified k-fold cross-validation of one or more trainers on the training images.
/// Each fold is held out once and never shown to the trainer while it fits; the report gives every
/// fold's accuracy and their mean ± sample standard deviation per trainer. With --shard K/N (or a
/// scheduler's index) it runs only its share of the (trainer, fold) trials, for <c>mnist merge</c>.
/// </summary>
public static class CvCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var definition = new Definition(environment);
        definition.Command.SetAction(parseResult => CommandExecution.Run(environment, () => Run(environment, definition.Read(parseResult))));
        return definition.Command;
    }

    /// <summary><c>mnist merge</c> of cv shards: the sweep's options as the shards recorded them, their trials in place of fitting, the same report.</summary>
    internal static void Merge(RunnerEnvironment environment, ShardSet shards, MergeRequest request)
    {
        var definition = new Definition(environment);
        var options = definition.Read(shards.First.Parse(definition.Command, request.Tokens));
        Run(environment, options with { Invocation = options.Invocation with { CommandLine = request.CommandLine } }, shards);
    }

    /// <summary>The command's options, declared once for the command line and for re-reading a shard's configuration.</summary>
    private sealed class Definition
    {
        private readonly CommandOptions _set = new();
        private readonly Option<string[]> _trainers, _parameters;
        private readonly Option<int> _folds, _seed;
        private readonly Option<string?> _data, _output, _shard;
        private readonly Option<int?> _trainLimit, _threads, _shardCount;
        private readonly Option<bool> _force;
        private readonly RunnerEnvironment _environment;

        public Definition(RunnerEnvironment environment)
        {
            _environment = environment;
            _trainers = _set.Add(CommonOptions.Trainers(environment));
            _folds = _set.Add(CommonOptions.Folds());
            _data = _set.Add(CommonOptions.Data());
            _trainLimit = _set.Add(CommonOptions.TrainLimit());
            _seed = _set.Add(CommonOptions.Seed());
            _threads = _set.Add(CommonOptions.Threads());
            _parameters = _set.Add(CommonOptions.Params());
            _output = _set.Add(CommonOptions.OutFolder());
            _force = _set.Add(CommonOptions.Force());
            _shard = _set.Add(Shard.Option());
            _shardCount = _set.Add(Shard.CountOption());
            _set.Add(CommonOptions.Config());
            Command = _set.AddTo(new Command("cv", "Stratified k-fold cross-validation of one or more trainers"));
        }

        public Command Command { get; }

        public CvOptions Read(ParseResult parseResult) => new(
            parseResult.GetValue(_trainers) ?? [], parseResult.GetValue(_folds), parseResult.GetValue(_data), parseResult.GetValue(_trainLimit),
            parseResult.GetValue(_seed), parseResult.GetValue(_threads), parseResult.GetValue(_parameters) ?? [], parseResult.GetValue(_output),
            parseResult.GetValue(_force), parseResult.GetValue(_shard), parseResult.GetValue(_shardCount), Invocation.From(parseResult, _set, _environment));
    }

    private sealed record CvOptions(IReadOnlyList<string> Trainers, int Folds, string? Data, int? TrainLimit, int Seed, int? Threads,
        IReadOnlyList<string> Params, string? Out, bool Force, string? Shard, int? ShardCount, Invocation Invocation);

    /// <summary>Every trial (unsharded), one shard's (<c>--shard</c> or a scheduler's index), or the <paramref name="merged"/> shards': one plan and report for all three.</summary>
    private static void Run(RunnerEnvironment environment, CvOptions options, ShardSet? merged = null)
    {
        int k = options.Folds;
        int? limit = options.TrainLimit;
        int runSeed = options.Seed;
        if (k < 2) throw new UsageException($"--folds must be at least 2, not {k}");
        Require.Limit(limit, "--train-limit");
        Require.Threads(options.Threads);
        var shard = merged is null ? Shard.Resolve(environment, options.Shard, options.ShardCount) : null;
        SweepOutput.RequireOutFolder(shard, options.Out);
        var catalog = environment.Catalog;
        var names = TrainerSelection.ResolveNames(catalog, options.Trainers);
        var created = TrainerSelection.Create(catalog, names, options.Params, runSeed);
        if (created.Count == 0) throw new UsageException("no trainers to run: the trainer catalog of this build is empty");
        string dataFolder = ExperimentData.ResolveFolder(environment, options.Data);
        string outFolder = SweepOutput.Folder(environment, options.Out, shard, options.Force);

        int threadCount = ModelFitting.ApplyThreads(options.Threads);
        var console = environment.Console;
        var loaded = ExperimentData.Load(dataFolder, limit, null, 0, runSeed).CheckTrainers(created);
        var all = loaded.Train; // no validation split: every training image, in file order
        if (k > all.Count) throw new UsageException($"--folds {k} is more than the {all.Count} training images");
        var sweep = new Sweep(created, names, k);
        SweepOutput.RequireSameTrials(merged, sweep);
        console.WriteLine($"Data: {loaded.Folder} ({loaded.Format}): {all.Count} training images in {k} stratified folds; seed {runSeed}, {threadCount} threads");
        var splits = Splits.StratifiedKFold(all, k, runSeed);

        var trials = merged?.Trials ?? sweep.Run(environment, shard ?? Shard.Whole,
            f => new FoldViews(all.Subset(splits[f].Train).Materialize(), null, all.Subset(splits[f].Validation).Materialize()));
        var record = ExperimentRecord.Create("cv", options.Invocation, runSeed, threadCount, loaded, [], 0, limit) with
        {
            TestCount = 0,
            TestHasLabels = false,
        };
        if (shard is not null)
        {
            ShardFolder.Write(environment, outFolder, record, shard, sweep.TrialCount, trials);
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
                new Text((t.StandardDeviation * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " pt"),
                .. t.FoldAccuracies.Select(a => new Text(MarkdownReportWriter.Percent(a))),
            ]);
        return table;
    }
}
