using System.CommandLine;
using System.Globalization;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Runner.Common;
using Mnist.Runner.Compare;
using Mnist.Runner.Merge;
using Spectre.Console;

namespace Mnist.Runner.Grid;

/// <summary>
/// <c>mnist grid</c>: tries every combination of the given hyperparameter values for one trainer,
/// scored on a stratified validation split (or by k-fold cross-validation with --folds), ranks them,
/// then refits the best combination on the whole training set and evaluates it on the test set.
/// With --shard K/N (or a scheduler's index) it runs only its share of the trials into OUT/shard-K-of-N/,
/// and <c>mnist merge</c> completes the run from the shards (see <see cref="Merge"/>).
/// </summary>
public static class GridCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var definition = new Definition(environment);
        definition.Command.SetAction(parseResult => CommandExecution.Run(environment, () => Run(environment, definition.Read(parseResult))));
        return definition.Command;
    }

    /// <summary>
    /// <c>mnist merge</c> of grid shards: the sweep's options as the shards recorded them, the shards' trials in
    /// place of fitting, then the same ranking, refit and report as an unsharded run.
    /// </summary>
    internal static void Merge(RunnerEnvironment environment, ShardSet shards, MergeRequest request)
    {
        var definition = new Definition(environment);
        var options = definition.Read(shards.First.Parse(definition.Command, request.Tokens));
        Run(environment, options with { Invocation = options.Invocation with { CommandLine = request.CommandLine } }, shards, request.Refit);
    }

    /// <summary>The command's options, declared once for the command line and for re-reading a shard's configuration.</summary>
    private sealed class Definition
    {
        private readonly CommandOptions _set = new();
        private readonly Option<string?> _trainer, _data, _output, _shard;
        private readonly Option<string[]> _parameters;
        private readonly Option<int?> _folds, _trainLimit, _testLimit, _threads, _shardCount;
        private readonly Option<double> _validationFraction;
        private readonly Option<int> _seed;
        private readonly Option<bool> _force;
        private readonly RunnerEnvironment _environment;

        public Definition(RunnerEnvironment environment)
        {
            _environment = environment;
            _trainer = _set.Add(CommonOptions.Trainer(environment));
            _parameters = _set.Add(CommonOptions.Params("A grid axis name=v1,v2,... (repeatable; names as under 'hyperparameters' in results.json)", "name=v1,v2,..."));
            _folds = _set.Add(new Option<int?>("--folds") { Description = "Score each combination by stratified k-fold cross-validation instead of one validation split", HelpName = "K" });
            _data = _set.Add(CommonOptions.Data());
            _trainLimit = _set.Add(CommonOptions.TrainLimit());
            _testLimit = _set.Add(CommonOptions.TestLimit());
            _validationFraction = _set.Add(CommonOptions.ValidationFraction("Share of the training images held out, stratified, to score each combination (without --folds)"));
            _seed = _set.Add(CommonOptions.Seed());
            _threads = _set.Add(CommonOptions.Threads());
            _output = _set.Add(CommonOptions.OutFolder());
            _force = _set.Add(CommonOptions.Force());
            _shard = _set.Add(Shard.Option());
            _shardCount = _set.Add(Shard.CountOption());
            _set.Add(CommonOptions.Config());
            Command = _set.AddTo(new Command("grid", "Grid search over one trainer's hyperparameters; the best is refitted and tested"));
        }

        public Command Command { get; }

        public GridOptions Read(ParseResult parseResult) => new(
            parseResult.GetValue(_trainer), parseResult.GetValue(_parameters) ?? [], parseResult.GetValue(_folds),
            parseResult.GetValue(_data), parseResult.GetValue(_trainLimit), parseResult.GetValue(_testLimit),
            parseResult.GetValue(_validationFraction), parseResult.GetValue(_seed), parseResult.GetValue(_threads),
            parseResult.GetValue(_output), parseResult.GetValue(_force), parseResult.GetValue(_shard), parseResult.GetValue(_shardCount),
            Invocation.From(parseResult, _set, _environment));
    }

    private sealed record GridOptions(string? Trainer, IReadOnlyList<string> Params, int? Folds, string? Data, int? TrainLimit, int? TestLimit,
        double ValidationFraction, int Seed, int? Threads, string? Out, bool Force, string? Shard, int? ShardCount, Invocation Invocation);

    private sealed record Candidate(IReadOnlyList<(string Name, string Value)> Values, ITrainer Trainer, string Label);

    /// <summary>
    /// The whole grid (unsharded), one shard of it (<c>--shard</c>, or a scheduler's index), or the merge of
    /// <paramref name="merged"/> shards: the same plan and ranking for all three, only where the trials come from differs.
    /// </summary>
    private static void Run(RunnerEnvironment environment, GridOptions options, ShardSet? merged = null, bool refit = true)
    {
        bool kFold = options.Folds is not null;
        if (options.Folds is < 2) throw new UsageException($"--folds must be at least 2, not {options.Folds}");
        Require.ValidationFraction(options.ValidationFraction);
        if (!kFold && options.ValidationFraction <= 0)
            throw new UsageException("grid search needs held-out images: a --validation-fraction above 0, or --folds K");
        Require.Limit(options.TrainLimit, "--train-limit");
        Require.Limit(options.TestLimit, "--test-limit");
        Require.Threads(options.Threads);
        var shard = merged is null ? Shard.Resolve(environment, options.Shard, options.ShardCount) : null;
        SweepOutput.RequireOutFolder(shard, options.Out);

        var catalog = environment.Catalog;
        string name = SingleTrainer.Resolve(catalog, options.Trainer);
        var axes = ParameterGrid.Resolve(ParameterGrid.Parse(options.Params), catalog.Find(name));
        if (axes.Count == 0) throw new UsageException("give at least one --param name=v1,v2,... to search over");
        // Every combination is created up front, so a typo fails before any training.
        var candidates = ParameterGrid.Combinations(axes)
            .Select(values => new Candidate(values, SingleTrainer.Create(catalog, name, values.Select(v => $"{v.Name}={v.Value}").ToList(), options.Seed),
                string.Join(", ", values.Select(v => $"{v.Name}={v.Value}"))))
            .ToList();
        var keys = axes.Select(a => a.Name).ToList();

        string dataFolder = ExperimentData.ResolveFolder(environment, options.Data);
        string outFolder = SweepOutput.Folder(environment, options.Out, shard, options.Force);

        int threads = ModelFitting.ApplyThreads(options.Threads);
        var cancel = environment.Cancellation;
        var console = environment.Console;
        var data = ExperimentData.Load(dataFolder, options.TrainLimit, options.TestLimit, kFold ? 0 : options.ValidationFraction, options.Seed, keepAllTrain: true)
            .CheckTrainers(candidates.Select(c => c.Trainer));
        var all = data.AllTrain!;
        int k = options.Folds ?? 1;
        if (!kFold && data.Validation is null)
            throw new UsageException($"--validation-fraction {CommandOptions.Invariant(options.ValidationFraction)} holds out no image of {all.Count}; raise it or use --folds K");
        if (kFold && k > all.Count) throw new UsageException($"--folds {k} is more than the {all.Count} training images");
        var sweep = new Sweep(candidates.Select(c => c.Trainer).ToList(), candidates.Select(c => c.Label).ToList(), k);
        SweepOutput.RequireSameTrials(merged, sweep);
        console.WriteLine(kFold
            ? $"Data: {data.Folder} ({data.Format}): {all.Count} training images in {k} stratified folds, {data.Test?.Count ?? 0} test; seed {options.Seed}, {threads} threads"
            : data.Describe(options.Seed, threads));
        console.WriteLine($"Grid: {candidates.Count} combinations of {name} ({string.Join("; ", axes.Select(a => $"{a.Name} = {string.Join(", ", a.Values)}"))})");

        var splits = kFold ? Splits.StratifiedKFold(all, k, options.Seed) : null;
        FoldViews Fold(int f) => splits is null
            ? new FoldViews(data.Train, data.Validation, data.Validation!)
            : new FoldViews(all.Subset(splits[f].Train).Materialize(), null, all.Subset(splits[f].Validation).Materialize());
        var trials = merged?.Trials ?? sweep.Run(environment, shard ?? Shard.Whole, Fold);
        var record = ExperimentRecord.Create("grid", options.Invocation, options.Seed, threads, data, [],
            kFold ? 0 : options.ValidationFraction, options.TrainLimit, options.TestLimit);
        if (shard is not null)
        {
            ShardFolder.Write(environment, outFolder, record, shard, sweep.TrialCount, trials);
            return;
        }

        var scores = candidates.Select(_ => new double[k]).ToArray();
        var seconds = new double[candidates.Count];
        var hyperparameters = new IReadOnlyDictionary<string, object>[candidates.Count];
        foreach (var trial in trials)
        {
            int c = sweep.Item(trial.Index);
            scores[c][sweep.Fold(trial.Index)] = trial.Accuracy;
            seconds[c] += trial.FitSeconds;
            hyperparameters[c] = trial.Hyperparameters;
        }
        int best = Ranking(scores).First();
        cancel.ThrowIfCancellationRequested();
        var refitted = !refit ? null : FitProgress.Run(console, environment.LiveProgress, [$"best, refit on all {all.Count}"], sinks =>
            ModelFitting.FitAndEvaluate(candidates[best].Trainer, sinks[0], all.Materialize(), null, data.Test, cancel));

        var ranked = Ranking(scores).Select((c, rank) =>
        {
            var (mean, sd) = Statistics.MeanAndSampleStandardDeviation(scores[c]);
            return new GridCandidate
            {
                Rank = rank + 1,
                Parameters = Enumerable.Range(0, axes.Count).ToDictionary(a => keys[a],
                    a => hyperparameters[c].TryGetValue(keys[a], out var value) ? value : candidates[c].Values[a].Value),
                Hyperparameters = new SortedDictionary<string, object>(hyperparameters[c].ToDictionary(), StringComparer.Ordinal),
                Score = mean,
                StandardDeviation = kFold ? sd : null,
                FoldAccuracies = scores[c],
                FitSeconds = seconds[c],
            };
        }).ToList();
        var grid = new GridSearchResult
        {
            Trainer = name,
            Method = kFold ? "k-fold" : "holdout",
            Folds = kFold ? k : null,
            ValidationFraction = kFold ? null : options.ValidationFraction,
            Parameters = Enumerable.Range(0, axes.Count).ToDictionary(a => keys[a], a => axes[a].Values),
            Candidates = ranked,
        };

        var experiment = record with
        {
            Models = refitted is null ? [] : [refitted.Result],
            GridSearch = grid,
            // The reported model is the refit: all training images, no validation set.
            TrainCount = all.Count,
            ValidationCount = 0,
        };
        console.WriteLine();
        console.Write(Table(grid));
        console.WriteLine($"Best: {candidates[best].Label} ({MarkdownReportWriter.Percent(ranked[0].Score)}); " + (refitted is null
            ? "not refitted (--no-refit)"
            : $"refitted on {all.Count} images: test {MarkdownReportWriter.Percent(refitted.Result.TestAccuracy)}"));
        ExperimentReport.Write(outFolder, experiment, refitted is null ? [] : [refitted.Predictions]);
        console.WriteLine($"Wrote {Path.Combine(outFolder, MarkdownReportWriter.FileName)} and {Path.Combine(outFolder, ResultsJsonWriter.FileName)}");
    }

    /// <summary>Candidate indices best first: highest mean score, then lowest spread, then grid order.</summary>
    private static IEnumerable<int> Ranking(double[][] scores) => Enumerable.Range(0, scores.Length)
        .Select(c => (Index: c, Stats: Statistics.MeanAndSampleStandardDeviation(scores[c])))
        .OrderByDescending(x => x.Stats.Mean).ThenBy(x => x.Stats.StandardDeviation).ThenBy(x => x.Index)
        .Select(x => x.Index);

    /// <summary>rank | each axis | score (± sd) | fit time.</summary>
    internal static Table Table(GridSearchResult grid)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("Rank").RightAligned());
        foreach (string key in grid.Parameters.Keys) table.AddColumn(key);
        table.AddColumn(new TableColumn(grid.Method == "k-fold" ? "Mean acc" : "Validation acc").RightAligned());
        if (grid.Method == "k-fold") table.AddColumn(new TableColumn("Std dev").RightAligned());
        table.AddColumn(new TableColumn("Fit time").RightAligned());
        foreach (var c in grid.Candidates)
        {
            var cells = new List<Text> { new(c.Rank.ToString(CultureInfo.InvariantCulture)) };
            cells.AddRange(grid.Parameters.Keys.Select(k => new Text(MarkdownReportWriter.FormatValue(c.Parameters[k]))));
            cells.Add(new Text(MarkdownReportWriter.Percent(c.Score)));
            if (c.StandardDeviation is double sd) cells.Add(new Text((sd * 100).ToString("0.00", CultureInfo.InvariantCulture) + " pt"));
            cells.Add(new Text(MarkdownReportWriter.Seconds(c.FitSeconds)));
            table.AddRow(cells);
        }
        return table;
    }
}
