using Mnist.Core.Training;
using Mnist.Runner.Compare;

namespace Mnist.Runner.Common;

/// <summary>--trainer NAME for the commands that train exactly one trainer.</summary>
public static class SingleTrainer
{
    /// <summary>The catalog spelling of <paramref name="name"/>; a missing, unknown or multiple name is a <see cref="UsageException"/>.</summary>
    public static string Resolve(TrainerCatalog catalog, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new UsageException($"--trainer is required (on the command line or in the --config file); known trainers: {string.Join(", ", catalog.Names)}");
        var names = TrainerSelection.ResolveNames(catalog, [name]);
        if (names.Count != 1) throw new UsageException($"--trainer takes one trainer, not '{name}'");
        return names[0];
    }

    /// <summary>Creates the trainer with its --param overrides and the run's seed.</summary>
    public static ITrainer Create(TrainerCatalog catalog, string name, IReadOnlyList<string> parameters, int seed) =>
        TrainerSelection.Create(catalog, [name], parameters, seed)[0];
}

/// <summary>Checks of option values shared by the commands.</summary>
public static class Require
{
    public static string File(string? value, string option) =>
        string.IsNullOrWhiteSpace(value) ? throw new UsageException($"{option} FILE is required (on the command line or in the --config file)") : value;

    public static void ValidationFraction(double value)
    {
        if (double.IsNaN(value) || value < 0 || value >= 1)
            throw new UsageException($"--validation-fraction must be at least 0 and less than 1, not {CommandOptions.Invariant(value)}");
    }

    public static void Threads(int? threads)
    {
        if (threads is < 1) throw new UsageException($"--threads must be at least 1, not {threads}");
    }

    public static void Limit(int? limit, string option)
    {
        if (limit is < 1) throw new UsageException($"{option} must be a positive number of images, not {limit}");
    }
}
