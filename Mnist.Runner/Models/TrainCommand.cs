using System.CommandLine;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Runner.Common;
using Spectre.Console;
using Mnist.Runner.Compare;

namespace Mnist.Runner.Models;

/// <summary>
/// <c>mnist train</c>: fits one trainer on the data (validation split as in compare), prints its
/// accuracies and saves the model file (<see cref="ModelFile"/>) for <c>mnist predict</c>.
/// </summary>
public static class TrainCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var trainer = set.Add(CommonOptions.Trainer(environment));
        var modelOut = set.Add(new Option<string?>("--model-out") { Description = "Where to save the trained model", HelpName = "FILE" });
        var data = set.Add(CommonOptions.Data());
        var trainLimit = set.Add(CommonOptions.TrainLimit());
        var testLimit = set.Add(CommonOptions.TestLimit());
        var validationFraction = set.Add(CommonOptions.ValidationFraction());
        var parameters = set.Add(CommonOptions.Params("Hyperparameter override name=value (repeatable)"));
        var seed = set.Add(CommonOptions.Seed());
        var threads = set.Add(CommonOptions.Threads());
        var force = set.Add(CommonOptions.Force("Overwrite an existing model file (and start over instead of resuming a checkpoint)"));
        var resume = set.Add(new Option<bool>("--resume") { Description = "Continue an interrupted 'mnist train' from its checkpoint MODEL.ckpt (same options)" });
        set.Add(CommonOptions.Config());

        var command = set.AddTo(new Command("train", "Train one classifier and save it as a model file"));
        command.SetAction(parseResult => CommandExecution.Run(environment, () =>
        {
            string path = Path.GetFullPath(Require.File(parseResult.GetValue(modelOut), "--model-out"), environment.CurrentDirectory);
            double fraction = parseResult.GetValue(validationFraction);
            Require.ValidationFraction(fraction);
            Require.Threads(parseResult.GetValue(threads));
            Require.Limit(parseResult.GetValue(trainLimit), "--train-limit");
            Require.Limit(parseResult.GetValue(testLimit), "--test-limit");
            int runSeed = parseResult.GetValue(seed);
            string name = SingleTrainer.Resolve(environment.Catalog, parseResult.GetValue(trainer));
            var created = SingleTrainer.Create(environment.Catalog, name, parseResult.GetValue(parameters) ?? [], runSeed);
            string dataFolder = ExperimentData.ResolveFolder(environment, parseResult.GetValue(data));
            OutputLocation.CheckFile(path, parseResult.GetValue(force), "--model-out");
            var checkpoint = SingleRunCheckpoint.Prepare(created, path, parseResult.GetValue(resume), parseResult.GetValue(force));

            int threadCount = ModelFitting.ApplyThreads(parseResult.GetValue(threads));
            var loaded = ExperimentData.Load(dataFolder, parseResult.GetValue(trainLimit), parseResult.GetValue(testLimit), fraction, runSeed).CheckTrainers([created]);
            environment.Cancellation.ThrowIfCancellationRequested();
            environment.Console.WriteLine(loaded.Describe(runSeed, threadCount));
            var fitted = SingleRunCheckpoint.FitAndEvaluate(environment, created, checkpoint, loaded);

            var summary = ExperimentRecord.Create("train", Invocation.From(parseResult, set, environment), runSeed, threadCount, loaded,
                [fitted.Result], fraction, parseResult.GetValue(trainLimit), parseResult.GetValue(testLimit));
            environment.Console.WriteLine();
            environment.Console.Write(CompareCommand.SummaryTable(summary));
            ModelFile.Save(fitted.Model, path, loaded.Train.ContentSha256());
            checkpoint?.Delete();
            environment.Console.WriteLine($"Saved the {name} model to {path}");
        }));
        return command;
    }
}
