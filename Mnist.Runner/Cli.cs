using System.CommandLine;
using Mnist.Runner.Common;
using Mnist.Runner.Compare;

namespace Mnist.Runner;

/// <summary>The <c>mnist</c> command line, runnable in-process with an injected <see cref="RunnerEnvironment"/>.</summary>
public static class Cli
{
    public static RootCommand CreateRootCommand(RunnerEnvironment environment)
    {
        var root = new RootCommand("MnistExperiments: train MNIST digit classifiers on one data pipeline and compare them.");
        root.Add(CompareCommand.Create(environment));
        root.Add(Kaggle.KaggleCommand.Create(environment));
        root.Add(new CrossValidation.CvCommand(environment).Command);
        root.Add(new Grid.GridCommand(environment).Command);
        root.Add(Models.TrainCommand.Create(environment));
        root.Add(Models.PredictCommand.Create(environment));
        root.Add(Export.ExportCommand.Create(environment));
        root.Add(Merge.MergeCommand.Create(environment));
        root.Add(Trainers.TrainersCommand.Create(environment));
        Trainers.TrainersCommand.AddHelpSection(root, environment);
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>; returns the exit code (2 for any usage error). With
    /// <c>--config FILE</c>, the file's values are parsed as if typed after the command line, for the
    /// options the command line does not set.
    /// </summary>
    public static int Run(string[] args, RunnerEnvironment environment)
    {
        var root = CreateRootCommand(environment);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors) environment.Error.WriteLine($"error: {error.Message}");
            string command = parseResult.CommandResult.Command is RootCommand ? "mnist" : $"mnist {parseResult.CommandResult.Command.Name}";
            environment.Error.WriteLine($"Run '{command} --help' for usage.");
            return ExitCodes.BadInput;
        }

        var selected = parseResult.CommandResult.Command;
        if (selected.Options.OfType<Option<string?>>().FirstOrDefault(o => o.Name == ConfigFile.OptionName) is { } configOption
            && parseResult.GetValue(configOption) is string configPath)
        {
            string path = Path.GetFullPath(configPath, environment.CurrentDirectory);
            try
            {
                var config = ConfigFile.Load(path);
                parseResult = root.Parse([.. args, .. config.Tokens(selected, parseResult)]);
            }
            catch (UsageException e)
            {
                environment.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
            if (parseResult.Errors.Count > 0)
            {
                environment.Error.WriteLine($"error: {path}: {parseResult.Errors[0].Message}");
                return ExitCodes.BadInput;
            }
        }

        return parseResult.Invoke(new InvocationConfiguration
        {
            Output = environment.Out,
            Error = environment.Error,
            ProcessTerminationTimeout = null,
        });
    }
}
