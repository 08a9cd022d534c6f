using System.CommandLine;
using System.Globalization;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Runner.Common;
using Mnist.Runner.Compare;
using Spectre.Console;

namespace Mnist.Runner.Grid;

/// <summary>
/// <c>mnist grid</c>: tries every combination of the given hyperparameter values for one trainer,
/// scored on a stratified validation split (or by k-fold cross-validation with --folds), ranks them,
/// then refits the best combination on the whole training set and evaluates it on the test set.
/// </summary>
public static class GridCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var trainer = set.Add(CommonOptions.Trainer(environment));
        var parameters = set.Add(CommonOptions.Params("A grid axis name=v1,v2,... (repeatable; names as under 'hyperparameters' in results.json)", "name=v1,v2,..."));
        var folds = set.Add(new Option<int?>("--folds") { Description = "Score each combination by stratified k-fold cross-validation instead of one validation split", HelpName = "K" });
        var data = set.Add(CommonOptions.Data());
        var trainLimit = set.Add(CommonOptions.TrainLimit());
        var testLimit = set.Add(CommonOptions.TestLimit());
        var validationFraction = set.Add(CommonOptions.ValidationFraction("Share of the training images held out, stratified, to score each combination (without --folds)"));
        var seed = set.Add(CommonOptions.Seed());
        var threads = set.Add(CommonOptions.Threads());
        var output = set.Add(CommonOptions.OutFolder());
        var force = set.Add(CommonOptions.Force());
        set.Add(CommonOptions.Config());

        var command = set.AddTo(new Command("grid", "Grid search over one trainer's hyperparameters; the best is refitted and tested"));
        command.SetAction(parseResult => CommandExecution.Run(environment, () => Run(environment, new GridOptions(
            parseResult.GetValue(trainer), parseResult.GetValue(parameters) ?? [], parseResult.GetValue(folds),
            parseResult.GetValue(data), parseResult.GetValue(trainLimit), parseResult.GetValue(testLimit),
            parseResult.GetValue(validationFraction), parseResult.GetValue(seed), parseResult.GetValue(threads),
            parseResult.GetValue(output), parseResult.GetValue(force), Invocation.From(parseResult, set, environment)))));
        return command;
    }

    private sealed record GridOptions(string? Trainer, IReadOnlyList<string> Params, int? Folds, string? Data, int? TrainLimit, int? TestLimit,
        double ValidationFraction, int Seed, int? Threads, string? Out, bool Force, Invocation Invocation);

    private sealed record Candidate(IReadOnlyList<(string Name, string Value)> Values, ITrainer Trainer, string Label);

    private static void Run(RunnerEnvironment environment, GridOptions options)
    {
        bool kFold = options.Folds is not null;
        if (options.Folds is < 2) throw new UsageException($"--folds must be at least 2, not {options.Folds}");
        Require.ValidationFraction(options.ValidationFraction);
        if (!kFold && options.ValidationFraction <= 0)
            throw new UsageException("grid search needs held-out images: a --validation-fraction above 0, or --folds K");
        Require.Limit(options.TrainLimit, "--train-limit");
        Require.Limit(options.TestLimit, "--test-limit");
        Require.Threads(options.Threads);

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
        string outFolder = OutputLocation.ReportFolder(environment, options.Out);
        OutputLocation.CheckReportFolder(outFolder, options.Force);

        int threads = ModelFitting.ApplyThreads(options.Threads);
        var cancel = environment.Cancellation;
        var console = environment.Console;
        var data = ExperimentData.Load(dataFolder, options.TrainLimit, options.TestLimit, kFold ? 0 : options.ValidationFraction, options.Seed)
            .CheckTrainers(candidates.Select(c => c.Trainer));
        var all = data.AllTrain;
        int k = options.Folds ?? 1;
        if (!kFold && data.Validation is null)
            throw new UsageException($"--validation-fraction {CommandOptions.Invariant(options.ValidationFraction)} holds out no image of {all.Count}; raise it or use --folds K");
        if (kFold && k > all.Count) throw new UsageException($"--folds {k} is more than the {all.Count} training images");
        console.WriteLine(kFold
            ? $"Data: {data.Folder} ({data.Format}): {all.Count} training images in {k} stratified folds, {data.Test?.Count ?? 0} test; seed {options.Seed}, {threads} threads"
            : data.Describe(options.Seed, threads));
        console.WriteLine($"Grid: {candidates.Count} combinations of {name} ({string.Join("; ", axes.Select(a => $"{a.Name} = {string.Join(", ", a.Values)}"))})");

        var splits = kFold ? Splits.StratifiedKFold(all, k, options.Seed) : null;
        var scores = candidates.Select(_ => new double[k]).ToArray();
        var seconds = new double[candidates.Count];
        var hyperparameters = new IReadOnlyDictionary<string, object>[candidates.Count];
        var tasks = Enumerable.Range(0, k).SelectMany(f => candidates.Select(c => kFold ? $"{c.Label} fold {f + 1}/{k}" : c.Label)).Append($"best, refit on all {all.Count}").ToList();

        var refit = FitProgress.Run(console, environment.LiveProgress, tasks, sinks =>
        {
            for (int f = 0; f < k; f++)
            {
                var (train, monitor, heldOut) = splits is null
                    ? (data.Train, data.Validation, data.Validation!)
                    : (all.Subset(splits[f].Train).Materialize(), (DigitDataView?)null, all.Subset(splits[f].Validation).Materialize());
                for (int c = 0; c < candidates.Count; c++)
                {
                    cancel.ThrowIfCancellationRequested();
                    var (accuracy, fit, resolved) = ModelFitting.FitAndScore(candidates[c].Trainer, sinks[f * candidates.Count + c], train, monitor, heldOut, cancel);
                    scores[c][f] = accuracy;
                    seconds[c] += fit;
                    hyperparameters[c] = resolved;
                }
            }
            int best = Ranking(scores).First();
            cancel.ThrowIfCancellationRequested();
            return ModelFitting.FitAndEvaluate(candidates[best].Trainer, sinks[^1], all.Materialize(), null, data.Test, cancel);
        });

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

        var experiment = ExperimentRecord.Create("grid", options.Invocation, options.Seed, threads, data, [refit.Result],
            kFold ? 0 : options.ValidationFraction, options.TrainLimit, options.TestLimit) with
        {
            GridSearch = grid,
            // The reported model is the refit: all training images, no validation set.
            TrainCount = all.Count,
            ValidationCount = 0,
        };
        console.WriteLine();
        console.Write(Table(grid));
        console.WriteLine($"Best: {candidates[Ranking(scores).First()].Label} ({MarkdownReportWriter.Percent(ranked[0].Score)}); " +
                          $"refitted on {all.Count} images: test {MarkdownReportWriter.Percent(refit.Result.TestAccuracy)}");
        ExperimentReport.Write(outFolder, experiment, [refit.Predictions]);
        console.WriteLine($"Wrote {Path.Combine(outFolder, MarkdownReportWriter.FileName)} and {Path.Combine(outFolder, ResultsJsonWriter.FileName)}");
    }

    /// <summary>Candidate indices best first: highest mean score, then lowest spread, then grid order.</summary>
    private static IEnumerable<int> Ranking(double[][] scores) => Enumerable.Range(0, scores.Length)
        .Select(c => (Index: c, Stats: Statistics.MeanAndSampleStandardDeviation(scores[c])))
        .OrderByDescending(x => x.Stats.Mean).ThenBy(x => x.Stats.StandardDeviation).ThenBy(x => x.Index)
        .Select(x => x.Index);

    /// <summary>rank | each axis | score (± sd) | fit time.</summary>
    public static Table Table(GridSearchResult grid)
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
