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

internal sealed record GridOptions(string? Trainer, IReadOnlyList<string> Params, int? Folds, double ValidationFraction, int? TestLimit, SweepSettings Sweep);

/// <summary>
/// <c>mnist grid</c>: tries every combination of the given hyperparameter values for one trainer,
/// scored on a stratified validation split (or by k-fold cross-validation with --folds), ranks them,
/// then refits the best combination on the whole training set and evaluates it on the test set.
/// With --shard K/N (or a scheduler's index) it runs only its share of the trials into OUT/shard-K-of-N/,
/// and <c>mnist merge</c> completes the run from the shards (see <see cref="SweepCommandLine{TOptions}.Merge"/>).
/// </summary>
internal sealed class GridCommand : SweepCommandLine<GridOptions>
{
    private readonly Option<string?> _trainer;
    private readonly Option<string[]> _parameters;
    private readonly Option<int?> _folds, _testLimit;
    private readonly Option<double> _validationFraction;

    public GridCommand(RunnerEnvironment environment) : base(environment)
    {
        _trainer = Set.Add(CommonOptions.Trainer(environment));
        _parameters = Set.Add(CommonOptions.Params("A grid axis name=v1,v2,... (repeatable; names as under 'hyperparameters' in results.json)", "name=v1,v2,..."));
        _folds = Set.Add(new Option<int?>("--folds") { Description = "Score each combination by stratified k-fold cross-validation instead of one validation split", HelpName = "K" });
        _validationFraction = Set.Add(CommonOptions.ValidationFraction("Share of the training images held out, stratified, to score each combination (without --folds)"));
        _testLimit = Set.Add(CommonOptions.TestLimit());
        Complete("grid", "Grid search over one trainer's hyperparameters; the best is refitted and tested");
    }

    protected override GridOptions Read(ParseResult parseResult, SweepSettings shared) => new(
        parseResult.GetValue(_trainer), parseResult.GetValue(_parameters) ?? [], parseResult.GetValue(_folds),
        parseResult.GetValue(_validationFraction), parseResult.GetValue(_testLimit), shared);

    private sealed record Candidate(IReadOnlyList<(string Name, string Value)> Values, ITrainer Trainer, string Label);

    /// <summary>
    /// The whole grid (unsharded), one shard of it (<c>--shard</c>, or a scheduler's index), or the merge of
    /// <paramref name="merged"/> shards: the same plan and ranking for all three, only where the trials come from
    /// differs. A merge refits the best combination unless <paramref name="merge"/> says not to.
    /// </summary>
    protected override void Run(GridOptions options, ShardSet? merged, MergeRequest? merge)
    {
        bool refit = merge?.Refit ?? true;
        var settings = options.Sweep;
        bool kFold = options.Folds is not null;
        if (options.Folds is < 2) throw new UsageException($"--folds must be at least 2, not {options.Folds}");
        Require.ValidationFraction(options.ValidationFraction);
        if (!kFold && options.ValidationFraction <= 0)
            throw new UsageException("grid search needs held-out images: a --validation-fraction above 0, or --folds K");
        Require.Limit(options.TestLimit, "--test-limit");
        var shard = settings.CheckAndResolveShard(Environment, merged);

        var catalog = Environment.Catalog;
        string name = SingleTrainer.Resolve(catalog, options.Trainer);
        var axes = ParameterGrid.Resolve(ParameterGrid.Parse(options.Params), catalog.Find(name));
        if (axes.Count == 0) throw new UsageException("give at least one --param name=v1,v2,... to search over");
        // Every combination is created up front, so a typo fails before any training.
        var candidates = ParameterGrid.Combinations(axes)
            .Select(values => new Candidate(values, SingleTrainer.Create(catalog, name, values.Select(v => $"{v.Name}={v.Value}").ToList(), settings.Seed),
                string.Join(", ", values.Select(v => $"{v.Name}={v.Value}"))))
            .ToList();
        var keys = axes.Select(a => a.Name).ToList();

        string dataFolder = ExperimentData.ResolveFolder(Environment, settings.Data);
        string outFolder = settings.OutFolder(Environment, shard);

        int threads = ModelFitting.ApplyThreads(settings.Threads);
        var cancel = Environment.Cancellation;
        var console = Environment.Console;
        var data = ExperimentData.Load(dataFolder, settings.TrainLimit, options.TestLimit, kFold ? 0 : options.ValidationFraction, settings.Seed, keepAllTrain: true)
            .CheckTrainers(candidates.Select(c => c.Trainer));
        var all = data.AllTrain!;
        int k = options.Folds ?? 1;
        if (!kFold && data.Validation is null)
            throw new UsageException($"--validation-fraction {CommandOptions.Invariant(options.ValidationFraction)} holds out no image of {all.Count}; raise it or use --folds K");
        if (kFold && k > all.Count) throw new UsageException($"--folds {k} is more than the {all.Count} training images");
        var sweep = new Sweep(candidates.Select(c => c.Trainer).ToList(), candidates.Select(c => c.Label).ToList(), k);
        SweepOutput.RequireSameTrials(merged, sweep);
        console.WriteLine(kFold
            ? $"Data: {data.Folder} ({data.Format}): {all.Count} training images in {k} stratified folds, {data.Test?.Count ?? 0} test; seed {settings.Seed}, {threads} threads"
            : data.Describe(settings.Seed, threads));
        console.WriteLine($"Grid: {candidates.Count} combinations of {name} ({string.Join("; ", axes.Select(a => $"{a.Name} = {string.Join(", ", a.Values)}"))})");

        var splits = kFold ? Splits.StratifiedKFold(all, k, settings.Seed) : null;
        FoldViews Fold(int f) => splits is null
            ? new FoldViews(data.Train, data.Validation, data.Validation!)
            : new FoldViews(all.Subset(splits[f].Train).Materialize(), null, all.Subset(splits[f].Validation).Materialize());
        var trials = merged?.Trials ?? sweep.Run(Environment, shard ?? Shard.Whole, Fold);
        var record = ExperimentRecord.Create("grid", settings.Invocation, settings.Seed, threads, data, [],
            kFold ? 0 : options.ValidationFraction, settings.TrainLimit, options.TestLimit);
        if (shard is not null)
        {
            ShardFolder.Write(Environment, outFolder, record, shard, sweep.TrialCount, trials);
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
        var refitted = !refit ? null : FitProgress.Run(console, Environment.LiveProgress, [$"best, refit on all {all.Count}"], sinks =>
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
            if (c.StandardDeviation is double sd) cells.Add(new Text(MarkdownReportWriter.Points(sd)));
            cells.Add(new Text(MarkdownReportWriter.Seconds(c.FitSeconds)));
            table.AddRow(cells);
        }
        return table;
    }
}
