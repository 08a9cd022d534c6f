using System.CommandLine;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Runner.Common;
using Spectre.Console;
using Mnist.Runner.Compare;

namespace Mnist.Runner.Kaggle;

/// <summary>
/// <c>mnist kaggle</c>: trains one trainer on Kaggle's labelled train.csv (holding out a stratified
/// validation set unless --validation-fraction is 0), predicts the unlabelled test.csv and writes the
/// submission (<c>ImageId,Label</c>, ImageId 1..N in input order) with report.md, results.json and the
/// pictures beside it.
/// </summary>
public static class KaggleCommand
{
    public const string DefaultSubmission = "submission.csv";

    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var train = set.Add(new Option<string?>("--train") { Description = "Kaggle train.csv[.gz] with a label column", HelpName = "FILE" });
        var test = set.Add(new Option<string?>("--test") { Description = "Kaggle test.csv[.gz] to predict (unlabelled)", HelpName = "FILE" });
        var trainer = set.Add(CommonOptions.Trainer(environment));
        var output = set.Add(new Option<string?>("--out")
        {
            Description = $"The submission file; report.md and results.json go beside it (default: {DefaultSubmission})",
            HelpName = "FILE",
        });
        var validationFraction = set.Add(CommonOptions.ValidationFraction("Share of train.csv held out, stratified, to report validation accuracy (0 = train on every row)"));
        var parameters = set.Add(CommonOptions.Params("Hyperparameter override name=value (repeatable)"));
        var seed = set.Add(CommonOptions.Seed());
        var threads = set.Add(CommonOptions.Threads());
        var force = set.Add(CommonOptions.Force("Overwrite an existing submission and the results.json beside it (and start over instead of resuming a checkpoint)"));
        var resume = set.Add(new Option<bool>("--resume") { Description = "Continue an interrupted 'mnist kaggle' from its checkpoint SUBMISSION.ckpt (same options)" });
        set.Add(CommonOptions.Config());

        var command = set.AddTo(new Command("kaggle", "Train on Kaggle's train.csv and write a submission for test.csv"));
        command.SetAction(parseResult => CommandExecution.Run(environment, () => Run(environment,
            parseResult.GetValue(train), parseResult.GetValue(test), parseResult.GetValue(trainer), parseResult.GetValue(output),
            parseResult.GetValue(validationFraction), parseResult.GetValue(parameters) ?? [], parseResult.GetValue(seed),
            parseResult.GetValue(threads), parseResult.GetValue(force), parseResult.GetValue(resume), Invocation.From(parseResult, set, environment))));
        return command;
    }

    private static void Run(RunnerEnvironment environment, string? trainOption, string? testOption, string? trainerOption, string? outOption,
        double validationFraction, IReadOnlyList<string> parameters, int seed, int? threadsOption, bool force, bool resume, Invocation invocation)
    {
        string trainPath = Path.GetFullPath(Require.File(trainOption, "--train"), environment.CurrentDirectory);
        string testPath = Path.GetFullPath(Require.File(testOption, "--test"), environment.CurrentDirectory);
        Require.ValidationFraction(validationFraction);
        Require.Threads(threadsOption);
        var catalog = environment.Catalog;
        string name = SingleTrainer.Resolve(catalog, trainerOption);
        var trainer = SingleTrainer.Create(catalog, name, parameters, seed);

        string submissionPath = Path.GetFullPath(outOption ?? DefaultSubmission, environment.CurrentDirectory);
        string folder = Path.GetDirectoryName(submissionPath)!;
        OutputLocation.CheckFile(submissionPath, force, "--out");
        OutputLocation.CheckReportFolder(folder, force, "--out");
        var checkpoint = SingleRunCheckpoint.Prepare(trainer, submissionPath, resume, force);

        int threads = ModelFitting.ApplyThreads(threadsOption);
        var cancel = environment.Cancellation;
        var console = environment.Console;

        var allTrain = KaggleCsvReader.Read(trainPath);
        if (!allTrain.HasLabels) throw new DataFormatException(trainPath, "training data needs a 'label' first column", "line 1");
        var test = KaggleCsvReader.Read(testPath);
        if (test.PixelCount != allTrain.PixelCount)
            throw new DataFormatException(testPath, $"{test.PixelCount} pixels per image but {Path.GetFileName(trainPath)} has {allTrain.PixelCount}", "line 1");
        cancel.ThrowIfCancellationRequested();
        var data = ExperimentData.Split(Path.GetDirectoryName(trainPath)!, "kaggle-csv", [trainPath, testPath], allTrain, test, validationFraction, seed).CheckTrainers([trainer]);
        console.WriteLine(data.Describe(seed, threads));

        var fitted = SingleRunCheckpoint.FitAndEvaluate(environment, trainer, checkpoint, data);
        int[] labels = fitted.TestPredicted!;
        var classCounts = new int[DigitDataView.ClassCount];
        foreach (int label in labels) classCounts[label]++;

        var experiment = ExperimentRecord.Create("kaggle", invocation, seed, threads, data, [fitted.Result], validationFraction) with
        {
            Submission = new SubmissionResult(submissionPath, labels.Length, classCounts),
        };
        console.WriteLine();
        console.Write(CompareCommand.SummaryTable(experiment));
        if (fitted.Result.ValidationAccuracy is double accuracy)
            console.WriteLine($"Validation accuracy: {MarkdownReportWriter.Percent(accuracy)} on {data.Validation!.Count} held-out images");
        else
            console.WriteLine("Validation accuracy: n/a (--validation-fraction 0: trained on every row)");

        KaggleSubmission.Write(submissionPath, labels);
        ExperimentReport.Write(folder, experiment, [fitted.Predictions]);
        checkpoint?.Delete();
        console.WriteLine($"Wrote {submissionPath} ({labels.Length} rows), {Path.Combine(folder, MarkdownReportWriter.FileName)} and {Path.Combine(folder, ResultsJsonWriter.FileName)}");
    }
}
