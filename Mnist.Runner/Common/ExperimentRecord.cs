using Mnist.Core.Reporting;

namespace Mnist.Runner.Common;

/// <summary>Fills the fields of <see cref="ExperimentResults"/> that every command records the same way.</summary>
public static class ExperimentRecord
{
    public static ExperimentResults Create(string kind, Invocation invocation, int seed, int threads, ExperimentData data,
        IReadOnlyList<ModelResult> models, double validationFraction, int? trainLimit = null, int? testLimit = null) => new()
    {
        Version = MachineInfo.SoftwareVersion(),
        Seed = seed,
        Threads = threads,
        TrainCount = data.Train.Count,
        ValidationCount = data.Validation?.Count ?? 0,
        TestCount = data.Test?.Count ?? 0,
        Kind = kind,
        CreatedUtc = DateTime.UtcNow,
        Command = invocation.CommandLine,
        Configuration = invocation.Configuration,
        ConfigFile = invocation.ConfigFile,
        DataFolder = data.Folder,
        DataFormat = data.Format,
        DataFiles = data.Files,
        TestHasLabels = data.TestHasLabels,
        ValidationFraction = validationFraction,
        TrainLimit = trainLimit,
        TestLimit = testLimit,
        Machine = MachineInfo.Current(),
        PeakWorkingSetBytes = PeakMemory.OfRun(),
        Models = models,
    };
}
