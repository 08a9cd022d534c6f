using System.CommandLine;
using Mnist.Core.Reporting;
using Mnist.Runner.Common;
using Spectre.Console;

namespace Mnist.Runner.Compare;

/// <summary>
/// <c>mnist compare</c>: loads one dataset, splits off a stratified validation set, fits every chosen
/// trainer on the same data, evaluates each on train/validation/test and writes report.md, results.json
/// and the pictures. It never knows which trainers it runs: they come from the catalog.
/// </summary>
public sealed class CompareCommand(RunnerEnvironment environment)
{
    /// <summary>The System.CommandLine definition, bound to <paramref name="environment"/>.</summary>
    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var trainers = set.Add(CommonOptions.Trainers(environment));
        var data = set.Add(CommonOptions.Data());
        var trainLimit = set.Add(CommonOptions.TrainLimit());
        var testLimit = set.Add(CommonOptions.TestLimit());
        var validationFraction = set.Add(CommonOptions.ValidationFraction());
        var seed = set.Add(CommonOptions.Seed());
        var threads = set.Add(CommonOptions.Threads());
        var output = set.Add(CommonOptions.OutFolder());
        var parameters = set.Add(CommonOptions.Params());
        var repeat = set.Add(new Option<int>("--repeat")
        {
            Description = "Fit each trainer with S seeds (--seed, --seed + 1, ...) on the same split and report the mean ± sample SD of its accuracies",
            DefaultValueFactory = _ => 1,
            HelpName = "S",
        });
        var force = set.Add(CommonOptions.Force());
        set.Add(CommonOptions.Config());
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue the interrupted run in DIR with its settings: finished trainers are reused, the one in progress resumes from its checkpoint",
            HelpName = "DIR",
        };

        var command = set.AddTo(new Command("compare", "Train several classifiers on the same data and compare them side by side"));
        command.Add(resume);
        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(resume) is string resumeFolder)
                return CommandExecution.Run(environment, () =>
                    new CompareCommand(environment).Run(ResumeSettings.Compare(environment, Path.GetFullPath(resumeFolder, environment.CurrentDirectory), parseResult, set)));
            var options = new CompareOptions
            {
                Trainers = parseResult.GetValue(trainers) ?? [],
                Data = parseResult.GetValue(data),
                TrainLimit = parseResult.GetValue(trainLimit),
                TestLimit = parseResult.GetValue(testLimit),
                ValidationFraction = parseResult.GetValue(validationFraction),
                Seed = parseResult.GetValue(seed),
                Threads = parseResult.GetValue(threads),
                Out = parseResult.GetValue(output),
                Params = parseResult.GetValue(parameters) ?? [],
                Repeat = parseResult.GetValue(repeat),
                Force = parseResult.GetValue(force),
                CommandLine = CommandOptions.CommandLineText(parseResult),
                Invocation = Invocation.From(parseResult, set, environment),
            };
            return new CompareCommand(environment).Execute(options);
        });
        return command;
    }

    /// <summary>Runs the comparison and returns the process exit code; every error is reported on <see cref="RunnerEnvironment.Error"/>.</summary>
    public int Execute(CompareOptions options) => CommandExecution.Run(environment, () => Run(options));

    private void Run(CompareOptions options)
    {
        options.Validate();
        var catalog = environment.Catalog;
        var names = TrainerSelection.ResolveNames(catalog, options.Trainers);
        var trainers = TrainerSelection.Create(catalog, names, options.Params, options.Seed);
        // Repeat r (1..S-1) fits every trainer again with seed --seed + r; the split keeps --seed.
        var repeatTrainers = Enumerable.Range(1, options.Repeat - 1).Select(r => TrainerSelection.Create(catalog, names, options.Params, options.Seed + r)).ToList();

        string dataFolder = options.Resume is not null ? Path.GetFullPath(options.Data!) : ExperimentData.ResolveFolder(environment, options.Data);
        string outFolder = options.Resume ?? OutputLocation.ReportFolder(environment, options.Out);
        if (options.Resume is null) OutputLocation.CheckReportFolder(outFolder, options.Force);

        int threads = ModelFitting.ApplyThreads(options.Threads);
        var cancel = environment.Cancellation;
        var console = environment.Console;

        var data = ExperimentData.Load(dataFolder, options.TrainLimit, options.TestLimit, options.ValidationFraction, options.Seed).CheckTrainers(trainers);
        cancel.ThrowIfCancellationRequested();
        console.WriteLine(data.Describe(options.Seed, threads));
        if (trainers.Count == 0)
            throw new UsageException("no trainers to run: the trainer catalog of this build is empty");

        var run = new ResumableRun(outFolder);
        var reused = new FinishedTrainer?[trainers.Count];
        if (options.Resume is not null)
        {
            for (int i = 0; i < trainers.Count; i++) reused[i] = run.LoadFinished(names[i], trainers[i].Hyperparameters);
            console.WriteLine($"Resuming {outFolder}: " + string.Join(", ", names.Select((n, i) =>
                reused[i] is not null ? $"{n} finished" : run.ExistingCheckpoint(trainers[i]) is not null ? $"{n} from its checkpoint" : $"{n} from the start")));
        }
        else
        {
            run.Clear(); // leftovers of an earlier run in a --force'd folder must not be resumed
        }

        var results = new ModelResult[trainers.Count];
        var predictions = new ModelPredictions[trainers.Count];
        var repeats = new IReadOnlyList<RepeatRun>[trainers.Count];
        int current = -1;
        (int Trainer, int Run)? repeating = null; // the --repeat fit in progress (trainer, 0-based run), which restarts on --resume
        try
        {
            FitProgress.Run(console, environment.LiveProgress, names, sinks =>
            {
                for (int i = 0; i < trainers.Count; i++)
                {
                    var kept = reused[i];
                    if (kept is not null)
                    {
                        results[i] = kept.Result;
                        predictions[i] = ResumableRun.Predictions(kept, data);
                        sinks[i].Complete($"finished in the interrupted run: test {MarkdownReportWriter.Percent(kept.Result.TestAccuracy)}, " +
                                          $"validation {MarkdownReportWriter.Percent(kept.Result.ValidationAccuracy)}");
                    }
                    else
                    {
                        cancel.ThrowIfCancellationRequested();
                        current = i;
                        var checkpoint = run.Checkpoint(trainers[i]);
                        var fitted = ModelFitting.FitAndEvaluate(trainers[i], sinks[i], data.Train, data.Validation, data.Test, cancel, checkpoint);
                        kept = new FinishedTrainer(fitted.Result, fitted.Predictions.EvaluationPredicted, fitted.TestPredicted,
                            options.Repeat > 1 ? [RepeatRunOf(options.Seed, fitted.Result)] : null);
                        run.SaveFinished(names[i], kept);
                        checkpoint?.Delete();
                        results[i] = fitted.Result;
                        predictions[i] = fitted.Predictions;
                        current = -1;
                    }
                    if (options.Repeat == 1) continue;
                    var runs = kept.Repeats ?? [RepeatRunOf(options.Seed, kept.Result)];
                    for (int r = runs.Count; r < options.Repeat; r++)
                    {
                        cancel.ThrowIfCancellationRequested();
                        repeating = (i, r);
                        sinks[i].SetStage($"repeat {r + 1}/{options.Repeat}, seed {options.Seed + r}");
                        var again = ModelFitting.FitAndEvaluate(repeatTrainers[r - 1][i], sinks[i], data.Train, data.Validation, data.Test, cancel);
                        runs = [.. runs, RepeatRunOf(options.Seed + r, again.Result)];
                        run.SaveFinished(names[i], kept with { Repeats = runs });
                        repeating = null;
                    }
                    repeats[i] = runs;
                }
                return 0;
            });
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            WriteInterrupted(options, names, trainers, data, threads, outFolder, run, results, predictions, current, repeating);
            throw; // not reached
        }

        var experiment = Record(options, threads, data, results.ToList()) with
        {
            Repeats = options.Repeat == 1 ? null
                : new RepeatResult(options.Repeat, names.Select((name, i) => RepeatTrainerResult.Create(name, results[i].Engine, repeats[i])).ToList()),
        };
        console.WriteLine();
        console.Write(SummaryTable(experiment));
        foreach (var t in experiment.Repeats?.Trainers ?? [])
            console.WriteLine($"{t.Trainer} over {options.Repeat} seeds: test {MarkdownReportWriter.MeanAndSd(t.TestMean, t.TestStandardDeviation)}, " +
                              $"validation {MarkdownReportWriter.MeanAndSd(t.ValidationMean, t.ValidationStandardDeviation)}");
        ExperimentReport.Write(outFolder, experiment, predictions.ToList());
        run.Clear();
        console.WriteLine($"Wrote {Path.Combine(outFolder, MarkdownReportWriter.FileName)} and {Path.Combine(outFolder, ResultsJsonWriter.FileName)}");
    }

    private static ExperimentResults Record(CompareOptions options, int threads, ExperimentData data, IReadOnlyList<ModelResult> models) =>
        ExperimentRecord.Create("compare", options.Invocation ?? new Invocation(options.CommandLine, new Dictionary<string, object?>(), null),
            options.Seed, threads, data, models, options.ValidationFraction, options.TrainLimit, options.TestLimit);

    /// <summary>
    /// After Ctrl+C or SIGTERM: report.md and results.json marked interrupted with the finished trainers'
    /// figures (their partial records and the checkpoint of the one in progress stay for --resume), then
    /// <see cref="RunInterruptedException"/> with the one line for stderr.
    /// </summary>
    private void WriteInterrupted(CompareOptions options, IReadOnlyList<string> names, IReadOnlyList<Core.Training.ITrainer> trainers, ExperimentData data,
        int threads, string outFolder, ResumableRun run, ModelResult?[] results, ModelPredictions?[] predictions, int current, (int Trainer, int Run)? repeating)
    {
        var finished = Enumerable.Range(0, names.Count).Where(i => results[i] is not null).ToList();
        string? checkpoint = current >= 0 ? run.ExistingCheckpoint(trainers[current]) : null;
        string resume = $"mnist compare --resume {Quote(outFolder)}";
        var interruption = new InterruptionInfo(
            finished.Select(i => names[i]).ToList(),
            current >= 0 ? names[current] : null,
            checkpoint,
            Enumerable.Range(0, names.Count).Where(i => results[i] is null && i != current).Select(i => names[i]).ToList(),
            resume);
        var experiment = Record(options, threads, data, finished.Select(i => results[i]!).ToList()) with { Interrupted = true, Interruption = interruption };
        ExperimentReport.Write(outFolder, experiment, finished.Select(i => predictions[i]!).ToList(), $"MNIST compare (interrupted), {experiment.CreatedUtc:yyyy-MM-dd HH:mm:ss} UTC");
        string kept = current >= 0 ? (checkpoint is not null ? $", checkpoint of {names[current]} kept" : $", {names[current]} will restart")
            : repeating is var (trainer, repeat) ? $" ({names[trainer]}'s --repeat run {repeat + 1}/{options.Repeat}, seed {options.Seed + repeat}, will restart)" : "";
        throw new RunInterruptedException(
            $"interrupted: {finished.Count} of {names.Count} trainers finished{kept}; wrote {Path.Combine(outFolder, MarkdownReportWriter.FileName)}; resume with: {resume}");
    }

    private static RepeatRun RepeatRunOf(int seed, ModelResult result) => new(seed, result.ValidationAccuracy, result.TestAccuracy, result.FitSeconds);

    private static string Quote(string path) => path.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$') ? "'" + path.Replace("'", "'\\''") + "'" : path;

    /// <summary>trainer | train acc | validation acc | test acc | fit time | predict time; a combined model's members in rows under it.</summary>
    public static Table SummaryTable(ExperimentResults results)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("Trainer"));
        foreach (string header in new[] { "Train acc", "Validation acc", "Test acc", "Fit time", "Predict time" })
            table.AddColumn(new TableColumn(header).RightAligned());
        foreach (var m in results.Models)
        {
            table.AddRow(
                new Text(m.Trainer),
                new Text(MarkdownReportWriter.Percent(m.TrainAccuracy)),
                new Text(MarkdownReportWriter.Percent(m.ValidationAccuracy)),
                new Text(MarkdownReportWriter.Percent(m.TestAccuracy)),
                new Text(MarkdownReportWriter.Seconds(m.FitSeconds)),
                new Text(MarkdownReportWriter.Seconds(m.PredictSeconds)));
            foreach (var member in m.Members ?? [])
                table.AddRow(
                    new Text($"  member {member.Index}: {member.Trainer}"),
                    new Text(""),
                    new Text(MarkdownReportWriter.Percent(member.ValidationAccuracy)),
                    new Text(MarkdownReportWriter.Percent(member.TestAccuracy)),
                    new Text(""),
                    new Text(""));
        }
        return table;
    }
}
