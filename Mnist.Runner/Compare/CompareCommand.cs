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
        var force = set.Add(CommonOptions.Force());
        set.Add(CommonOptions.Config());

        var command = set.AddTo(new Command("compare", "Train several classifiers on the same data and compare them side by side"));
        command.SetAction(parseResult =>
        {
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

        string dataFolder = ExperimentData.ResolveFolder(environment, options.Data);
        string outFolder = OutputLocation.ReportFolder(environment, options.Out);
        OutputLocation.CheckReportFolder(outFolder, options.Force);

        int threads = ModelFitting.ApplyThreads(options.Threads);
        var cancel = environment.Cancellation;
        var console = environment.Console;

        var data = ExperimentData.Load(dataFolder, options.TrainLimit, options.TestLimit, options.ValidationFraction, options.Seed);
        cancel.ThrowIfCancellationRequested();
        console.WriteLine(data.Describe(options.Seed, threads));
        if (trainers.Count == 0)
            throw new UsageException("no trainers to run: the trainer catalog of this build is empty");

        var fitted = FitProgress.Run(console, environment.LiveProgress, names, sinks =>
        {
            var results = new List<FittedModel>();
            for (int i = 0; i < trainers.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                results.Add(ModelFitting.FitAndEvaluate(trainers[i], sinks[i], data.Train, data.Validation, data.Test, cancel));
            }
            return results;
        });

        var experiment = ExperimentRecord.Create("compare", options.Invocation ?? new Invocation(options.CommandLine, new Dictionary<string, object?>(), null),
            options.Seed, threads, data, fitted.Select(f => f.Result).ToList(), options.ValidationFraction, options.TrainLimit, options.TestLimit);

        console.WriteLine();
        console.Write(SummaryTable(experiment));
        ExperimentReport.Write(outFolder, experiment, fitted.Select(f => f.Predictions).ToList());
        console.WriteLine($"Wrote {Path.Combine(outFolder, MarkdownReportWriter.FileName)} and {Path.Combine(outFolder, ResultsJsonWriter.FileName)}");
    }

    /// <summary>trainer | train acc | validation acc | test acc | fit time | predict time.</summary>
    public static Table SummaryTable(ExperimentResults results)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("Trainer"));
        foreach (string header in new[] { "Train acc", "Validation acc", "Test acc", "Fit time", "Predict time" })
            table.AddColumn(new TableColumn(header).RightAligned());
        foreach (var m in results.Models)
            table.AddRow(
                new Text(m.Trainer),
                new Text(MarkdownReportWriter.Percent(m.TrainAccuracy)),
                new Text(MarkdownReportWriter.Percent(m.ValidationAccuracy)),
                new Text(MarkdownReportWriter.Percent(m.TestAccuracy)),
                new Text(MarkdownReportWriter.Seconds(m.FitSeconds)),
                new Text(MarkdownReportWriter.Seconds(m.PredictSeconds)));
        return table;
    }
}
