using System.Globalization;

namespace Mnist.Runner.Compare;

/// <summary>The settings of one <c>mnist compare</c> run, as given on the command line.</summary>
public sealed record CompareOptions
{
    /// <summary>Trainer names; empty means every trainer in the catalog.</summary>
    public IReadOnlyList<string> Trainers { get; init; } = [];
    /// <summary>The data folder; null means the repository's data/ folder.</summary>
    public string? Data { get; init; }
    public int? TrainLimit { get; init; }
    public int? TestLimit { get; init; }
    public double ValidationFraction { get; init; } = 0.1;
    public int Seed { get; init; } = 42;
    /// <summary>Compute threads; null means all cores.</summary>
    public int? Threads { get; init; }
    /// <summary>The output folder; null means reports/&lt;yyyyMMdd-HHmmss&gt;/.</summary>
    public string? Out { get; init; }
    /// <summary>Raw "name=value" or "trainer.name=value" hyperparameter overrides.</summary>
    public IReadOnlyList<string> Params { get; init; } = [];
    /// <summary>Fits per trainer, with seeds Seed, Seed + 1, ...; 2 or more adds the mean ± SD over them to the report.</summary>
    public int Repeat { get; init; } = 1;
    /// <summary>Overwrite an output folder that already holds results.json.</summary>
    public bool Force { get; init; }
    /// <summary>An interrupted run's folder to continue (its settings are used; see <see cref="CompareCommand"/>).</summary>
    public string? Resume { get; init; }
    /// <summary>The command line, recorded in the reports.</summary>
    public string CommandLine { get; init; } = "mnist compare";
    /// <summary>The command line, resolved options and config file, recorded in results.json; null when run from code.</summary>
    public Common.Invocation? Invocation { get; init; }

    public const int MaxRepeat = 1000;

    /// <summary>Throws <see cref="UsageException"/> for a value out of range.</summary>
    public void Validate()
    {
        if (double.IsNaN(ValidationFraction) || ValidationFraction < 0 || ValidationFraction >= 1)
            throw new UsageException($"--validation-fraction must be at least 0 and less than 1, not {ValidationFraction.ToString(CultureInfo.InvariantCulture)}");
        if (TrainLimit is < 1) throw new UsageException($"--train-limit must be a positive number of images, not {TrainLimit}");
        if (TestLimit is < 1) throw new UsageException($"--test-limit must be a positive number of images, not {TestLimit}");
        if (Threads is < 1) throw new UsageException($"--threads must be at least 1, not {Threads}");
        if (Repeat is < 1 or > MaxRepeat) throw new UsageException($"--repeat must be a number of seeds in 1..{MaxRepeat}, not {Repeat}");
    }
}
