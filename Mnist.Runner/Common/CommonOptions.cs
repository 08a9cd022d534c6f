using System.CommandLine;

namespace Mnist.Runner.Common;

/// <summary>The options several commands share, defined once so their names, defaults and help texts agree.</summary>
public static class CommonOptions
{
    public const double DefaultValidationFraction = 0.1;
    public const int DefaultSeed = 42;
    public const int DefaultFolds = 5;

    public static Option<string?> Data() => new("--data")
    {
        Description = "Dataset folder: MNIST IDX files or Kaggle train.csv/test.csv (default: the repository's data/)",
        HelpName = "DIR",
    };

    public static Option<int?> TrainLimit() => new("--train-limit") { Description = "Use only the first N training images", HelpName = "N" };

    public static Option<int?> TestLimit() => new("--test-limit") { Description = "Use only the first N test images", HelpName = "N" };

    public static Option<double> ValidationFraction(string? description = null) => new("--validation-fraction")
    {
        Description = description ?? "Share of the training images held out, stratified, for validation (0 = none)",
        DefaultValueFactory = _ => DefaultValidationFraction,
        HelpName = "F",
    };

    public static Option<int> Seed() => new("--seed")
    {
        Description = "Seed for the validation split or folds, and for every trainer's seed hyperparameter unless --param sets it",
        DefaultValueFactory = _ => DefaultSeed,
        HelpName = "S",
    };

    public static Option<int?> Threads() => new("--threads") { Description = "Compute threads (default: all cores)", HelpName = "T" };

    public static Option<string[]> Params(string? description = null, string helpName = "name=value") => new("--param")
    {
        Description = description ?? "Hyperparameter override name=value, or trainer.name=value for one trainer (repeatable)",
        HelpName = helpName,
    };

    public static Option<string?> OutFolder() => new("--out") { Description = "Output folder (default: reports/<yyyyMMdd-HHmmss>/)", HelpName = "DIR" };

    public static Option<bool> Force(string? description = null) => new("--force")
    {
        Description = description ?? "Overwrite an output folder that already holds results.json",
    };

    public static Option<string?> Trainer(RunnerEnvironment environment) => new("--trainer")
    {
        Description = "The trainer, by catalog name. Known: " + (environment.Catalog.Registrations.Count == 0 ? "(none)" : string.Join(", ", environment.Catalog.Names)),
        HelpName = "NAME",
    };

    public static Option<string[]> Trainers(RunnerEnvironment environment) => new("--trainers")
    {
        Description = "Comma-separated trainer names, or 'all' (default: every trainer not marked *). Known: "
            + (environment.Catalog.Registrations.Count == 0 ? "(none)" : string.Join(", ", environment.Catalog.Registrations.Select(r => r.RunsByDefault ? r.Name : r.Name + "*"))),
        AllowMultipleArgumentsPerToken = true,
        HelpName = "a,b,...",
    };

    public static Option<int> Folds(string? description = null) => new("--folds")
    {
        Description = description ?? "Number of stratified folds",
        DefaultValueFactory = _ => DefaultFolds,
        HelpName = "K",
    };

    public static Option<string?> Config() => new(ConfigFile.OptionName)
    {
        Description = "A JSON file with option values (keys = option names without dashes); command-line options override it",
        HelpName = "FILE.json",
    };
}
