using System.CommandLine;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Runner.Common;
using Mnist.Runner.Compare;
using Spectre.Console;

namespace Mnist.Runner.CrossValidation;

/// <summary>
/// <c>mnist cv</c>: stratified k-fold cross-validation of one or more trainers on the training images.
/// Each fold is held out once and never shown to the trainer while it fits; the report gives every
/// fold's accuracy and their mean ± sample standard deviation per trainer.
/// </summary>
public static class CvCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var trainers = set.Add(CommonOptions.Trainers(environment));
        var folds = set.Add(CommonOptions.Folds());
        var data = set.Add(CommonOptions.Data());
        var trainLimit = set.Add(CommonOptions.TrainLimit());
        var seed = set.Add(CommonOptions.Seed());
        var threads = set.Add(CommonOptions.Threads());
        var parameters = set.Add(CommonOptions.Params());
        var output = set.Add(CommonOptions.OutFolder());
        var force = set.Add(CommonOptions.Force());
        set.Add(CommonOptions.Config());

        var command = set.AddTo(new Command("cv", "Stratified k-fold cross-validation of one or more trainers"));
        command.SetAction(parseResult => CommandExecution.Run(environment, () =>
        {
            int k = parseResult.GetValue(folds);
            int? limit = parseResult.GetValue(trainLimit);
            int runSeed = parseResult.GetValue(seed);
            if (k < 2) throw new UsageException($"--folds must be at least 2, not {k}");
            Require.Limit(limit, "--train-limit");
            Require.Threads(parseResult.GetValue(threads));
            var catalog = environment.Catalog;
            var names = TrainerSelection.ResolveNames(catalog, parseResult.GetValue(trainers) ?? []);
            var created = TrainerSelection.Create(catalog, names, parseResult.GetValue(parameters) ?? [], runSeed);
            if (created.Count == 0) throw new UsageException("no trainers to run: the trainer catalog of this build is empty");
            string dataFolder = ExperimentData.ResolveFolder(environment, parseResult.GetValue(data));
            string outFolder = OutputLocation.ReportFolder(environment, parseResult.GetValue(output));
            OutputLocation.CheckReportFolder(outFolder, parseResult.GetValue(force));

            int threadCount = ModelFitting.ApplyThreads(parseResult.GetValue(threads));
            var cancel = environment.Cancellation;
            var console = environment.Console;
            var loaded = ExperimentData.Load(dataFolder, limit, null, 0, runSeed).CheckTrainers(created);
            var all = loaded.AllTrain;
            if (k > all.Count) throw new UsageException($"--folds {k} is more than the {all.Count} training images");
            console.WriteLine($"Data: {loaded.Folder} ({loaded.Format}): {all.Count} training images in {k} stratified folds; seed {runSeed}, {threadCount} threads");
            var splits = Splits.StratifiedKFold(all, k, runSeed);

            var accuracies = names.Select(_ => new double[k]).ToArray();
            var fitSeconds = new double[names.Count];
            var tasks = Enumerable.Range(0, k).SelectMany(f => names.Select(n => $"{n} fold {f + 1}/{k}")).ToList();
            FitProgress.Run(console, environment.LiveProgress, tasks, sinks =>
            {
                for (int f = 0; f < k; f++)
                {
                    // Fold-major, so each fold's views are copied once for all trainers.
                    var foldTrain = all.Subset(splits[f].Train).Materialize();
                    var heldOut = all.Subset(splits[f].Validation).Materialize();
                    for (int t = 0; t < names.Count; t++)
                    {
                        cancel.ThrowIfCancellationRequested();
                        var (accuracy, seconds, _) = ModelFitting.FitAndScore(created[t], sinks[f * names.Count + t], foldTrain, null, heldOut, cancel);
                        accuracies[t][f] = accuracy;
                        fitSeconds[t] += seconds;
                    }
                }
                return 0;
            });

            var cv = new CrossValidationResult(k, names.Select((n, t) =>
                CrossValidationTrainerResult.Create(n, created[t].Hyperparameters, accuracies[t], fitSeconds[t])).ToList());
            var experiment = ExperimentRecord.Create("cv", Invocation.From(parseResult, set, environment), runSeed, threadCount, loaded, [], 0, limit) with
            {
                CrossValidation = cv,
                TestCount = 0,
                TestHasLabels = false,
            };
            console.WriteLine();
            console.Write(Table(cv));
            ExperimentReport.Write(outFolder, experiment);
            console.WriteLine($"Wrote {Path.Combine(outFolder, MarkdownReportWriter.FileName)} and {Path.Combine(outFolder, ResultsJsonWriter.FileName)}");
        }));
        return command;
    }

    /// <summary>trainer | mean | std dev | fold 1..K.</summary>
    public static Table Table(CrossValidationResult cv)
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
