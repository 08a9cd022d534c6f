using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Numerics;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Spectre.Console;

namespace Mnist.Runner.Compare;

/// <summary>
/// <c>mnist compare</c>: loads one dataset, splits off a stratified validation set, fits every chosen
/// trainer on the same data, evaluates each on train/validation/test and writes report.md and
/// results.json. It never knows which trainers it runs: they come from the catalog.
/// </summary>
public sealed class CompareCommand(RunnerEnvironment environment)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The System.CommandLine definition, bound to <paramref name="environment"/>.</summary>
    public static Command Create(RunnerEnvironment environment)
    {
        var trainers = new Option<string[]>("--trainers")
        {
            Description = "Comma-separated trainer names (default: every trainer). Known: "
                + (environment.Catalog.Registrations.Count == 0 ? "(none)" : string.Join(", ", environment.Catalog.Names)),
            AllowMultipleArgumentsPerToken = true,
            HelpName = "a,b,...",
        };
        var data = new Option<string?>("--data") { Description = "Dataset folder: MNIST IDX files or Kaggle train.csv/test.csv (default: the repository's data/)", HelpName = "DIR" };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training images", HelpName = "N" };
        var testLimit = new Option<int?>("--test-limit") { Description = "Use only the first N test images", HelpName = "N" };
        var validationFraction = new Option<double>("--validation-fraction")
        {
            Description = "Share of the training images held out, stratified, for validation (0 = none)",
            DefaultValueFactory = _ => 0.1,
            HelpName = "F",
        };
        var seed = new Option<int>("--seed") { Description = "Seed for the validation split, and for trainers with a 'seed' hyperparameter unless --param sets it", DefaultValueFactory = _ => 42, HelpName = "S" };
        var threads = new Option<int?>("--threads") { Description = "Compute threads (default: all cores)", HelpName = "T" };
        var output = new Option<string?>("--out") { Description = "Output folder (default: reports/<yyyyMMdd-HHmmss>/)", HelpName = "DIR" };
        var parameters = new Option<string[]>("--param")
        {
            Description = "Hyperparameter override name=value, or trainer.name=value for one trainer (repeatable)",
            HelpName = "name=value",
        };
        var force = new Option<bool>("--force") { Description = "Overwrite an output folder that already holds results.json" };

        var command = new Command("compare", "Train several classifiers on the same data and compare them side by side")
        {
            trainers, data, trainLimit, testLimit, validationFraction, seed, threads, output, parameters, force,
        };
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
                CommandLine = CommandLineText(parseResult),
            };
            return new CompareCommand(environment).Execute(options);
        });
        return command;
    }

    /// <summary>Runs the comparison and returns the process exit code; every error is reported on <see cref="RunnerEnvironment.Error"/>.</summary>
    public int Execute(CompareOptions options)
    {
        try
        {
            Run(options);
            return ExitCodes.Success;
        }
        catch (UsageException e)
        {
            environment.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (DataFormatException e)
        {
            environment.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException) when (environment.Cancellation.IsCancellationRequested)
        {
            environment.Error.WriteLine("interrupted: no results written");
            return ExitCodes.Interrupted;
        }
        catch (TrainerFailedException e)
        {
            // A bug in a trainer: one line saying which, then the stack trace to find it.
            environment.Error.WriteLine($"error: {e.Message}; no results written");
            environment.Error.WriteLine(e.InnerException);
            return ExitCodes.Failure;
        }
    }

    private void Run(CompareOptions options)
    {
        options.Validate();
        var catalog = environment.Catalog;
        var names = TrainerSelection.ResolveNames(catalog, options.Trainers);
        var trainers = TrainerSelection.Create(catalog, names, options.Params, options.Seed);

        string dataFolder = options.Data is not null
            ? Path.GetFullPath(options.Data, environment.CurrentDirectory)
            : DataFolderLocator.Find(environment.CurrentDirectory, environment.BaseDirectory)
              ?? throw new UsageException($"no data folder found (looked for data/ in {environment.CurrentDirectory} and beside {DataFolderLocator.SolutionFileName} above it); pass --data DIR");
        string outFolder = Path.GetFullPath(
            options.Out ?? Path.Combine("reports", environment.Now().ToString("yyyyMMdd-HHmmss", Invariant)),
            environment.CurrentDirectory);
        string resultsPath = Path.Combine(outFolder, ResultsJsonWriter.FileName);
        string reportPath = Path.Combine(outFolder, MarkdownReportWriter.FileName);
        if (File.Exists(outFolder))
            throw new UsageException($"--out {outFolder} is a file, not a folder");
        if (File.Exists(resultsPath) && !options.Force)
            throw new UsageException($"{resultsPath} already exists; choose another --out or pass --force to overwrite it");

        ComputeSettings.Threads = options.Threads ?? Environment.ProcessorCount;
        var cancel = environment.Cancellation;
        var console = environment.Console;

        // Data: load, limit, split. Views are materialized so trainers get contiguous pixels.
        var dataset = DatasetLoader.Load(dataFolder);
        cancel.ThrowIfCancellationRequested();
        var allTrain = options.TrainLimit is int tl ? dataset.Train.Take(tl) : dataset.Train;
        var test = dataset.Test is null ? null : (options.TestLimit is int sl ? dataset.Test.Take(sl) : dataset.Test).Materialize();
        DigitDataView train;
        DigitDataView? validation = null;
        if (options.ValidationFraction > 0)
        {
            var (trainIndices, validationIndices) = Splits.StratifiedTrainValidation(allTrain, options.ValidationFraction, options.Seed);
            train = allTrain.Subset(trainIndices).Materialize();
            if (validationIndices.Length > 0) validation = allTrain.Subset(validationIndices).Materialize();
        }
        else
        {
            train = allTrain.Materialize();
        }
        bool testLabelled = test is { HasLabels: true };
        console.WriteLine(
            $"Data: {dataFolder} ({dataset.Format}): {train.Count} train, {validation?.Count ?? 0} validation, " +
            $"{test?.Count ?? 0} test{(test is null ? "" : testLabelled ? "" : " (unlabelled)")}; seed {options.Seed}, {ComputeSettings.Threads} threads");
        if (trainers.Count == 0)
            throw new UsageException("no trainers to run: the trainer catalog of this build is empty");

        var (predictSet, predictView) = test is not null ? ("test", test) : validation is not null ? ("validation", validation) : ("train", train);
        var models = FitProgress.Run(console, environment.LiveProgress, names, sinks =>
        {
            var results = new List<ModelResult>();
            for (int i = 0; i < trainers.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                results.Add(FitAndEvaluate(trainers[i], sinks[i], train, validation, test, predictSet, predictView, cancel));
            }
            return results;
        });

        var experiment = new ExperimentResults
        {
            Version = MachineInfo.SoftwareVersion(),
            Seed = options.Seed,
            Threads = ComputeSettings.Threads,
            TrainCount = train.Count,
            ValidationCount = validation?.Count ?? 0,
            TestCount = test?.Count ?? 0,
            Kind = "compare",
            CreatedUtc = DateTime.UtcNow,
            Command = options.CommandLine,
            DataFolder = dataFolder,
            DataFormat = dataset.Format,
            DataFiles = dataset.Files.Select(Path.GetFullPath).ToList(),
            TestHasLabels = testLabelled,
            ValidationFraction = options.ValidationFraction,
            TrainLimit = options.TrainLimit,
            TestLimit = options.TestLimit,
            Machine = MachineInfo.Current(),
            Models = models,
        };

        console.WriteLine();
        console.Write(SummaryTable(experiment));
        // report.md first: results.json appearing is the sign that the run completed.
        MarkdownReportWriter.Write(reportPath, experiment);
        ResultsJsonWriter.Write(resultsPath, experiment);
        console.WriteLine($"Wrote {reportPath} and {resultsPath}");
    }

    private static ModelResult FitAndEvaluate(
        ITrainer trainer, ITrainerProgress progress,
        DigitDataView train, DigitDataView? validation, DigitDataView? test,
        string predictSet, DigitDataView predictView, CancellationToken cancel)
    {
        try
        {
            return FitAndEvaluateCore(trainer, progress, train, validation, test, predictSet, predictView, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            progress.Fail("interrupted");
            throw;
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            progress.Fail("failed");
            throw new TrainerFailedException(trainer.Name, e);
        }
    }

    private static ModelResult FitAndEvaluateCore(
        ITrainer trainer, ITrainerProgress progress,
        DigitDataView train, DigitDataView? validation, DigitDataView? test,
        string predictSet, DigitDataView predictView, CancellationToken cancel)
    {
        progress.Start();
        var fitClock = Stopwatch.StartNew();
        ITrainedModel model = trainer.Fit(train, validation, progress, cancel);
        double fitSeconds = fitClock.Elapsed.TotalSeconds;
        cancel.ThrowIfCancellationRequested();

        progress.SetStage("evaluating");
        // Prediction time is measured on one set only: the test set, or validation/train without one.
        var predictClock = Stopwatch.StartNew();
        float[] predicted = model.PredictProbabilities(predictView);
        double predictSeconds = predictClock.Elapsed.TotalSeconds;

        ClassificationMetrics? Metrics(DigitDataView? view)
        {
            if (view is null || !view.HasLabels) return null;
            cancel.ThrowIfCancellationRequested();
            var probabilities = ReferenceEquals(view, predictView) ? predicted : model.PredictProbabilities(view);
            return Evaluator.FromProbabilities(Array.ConvertAll(view.GetLabels(), b => (int)b), probabilities, model.HasCalibratedProbabilities);
        }

        var trainMetrics = Metrics(train)!;
        var validationMetrics = Metrics(validation);
        var testMetrics = Metrics(test);
        var result = ModelResult.Create(trainer.Name, model.Hyperparameters, trainMetrics, validationMetrics, testMetrics,
            fitSeconds, predictSeconds, predictSet, predictView.Count, model.History);
        progress.Complete($"done in {MarkdownReportWriter.Seconds(fitSeconds)}, test {MarkdownReportWriter.Percent(result.TestAccuracy)}, " +
                          $"validation {MarkdownReportWriter.Percent(result.ValidationAccuracy)}, train {MarkdownReportWriter.Percent(result.TrainAccuracy)}");
        return result;
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

    private static string CommandLineText(ParseResult parseResult) =>
        "mnist " + string.Join(' ', parseResult.Tokens.Select(t => Quote(t.Value)));

    private static string Quote(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\' or '$' or '`')
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";
}
