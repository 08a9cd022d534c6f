using Mnist.Runner.Common;

namespace Mnist.Runner.Merge;

/// <summary>What <c>mnist merge</c> asks of the grid or cv command it completes.</summary>
/// <param name="OutFolder">The merged report's folder.</param>
/// <param name="Force">Overwrite a report already there.</param>
/// <param name="Refit">Refit and test the best grid combination.</param>
/// <param name="CommandLine">The merge command line, recorded in the report.</param>
internal sealed record MergeRequest(string OutFolder, bool Force, bool Refit, string CommandLine)
{
    /// <summary>The tokens appended to the sweep's own options.</summary>
    public IReadOnlyList<string> Tokens => Force ? ["--out", OutFolder, "--force"] : ["--out", OutFolder];
}

/// <summary>Where the sweeps (grid, cv) write, sharded or not, and the checks a merge makes of its sweep.</summary>
internal static class SweepOutput
{
    /// <summary>The shards of one sweep must share one folder; a default timestamped folder would differ per task.</summary>
    public static void RequireOutFolder(Shard? shard, string? outOption)
    {
        if (shard is not null && outOption is null)
            throw new UsageException($"shard {shard} needs --out DIR: the sweep's folder, shared by every shard (each writes DIR/{shard.FolderName}/)");
    }

    /// <summary>The report folder, or for a shard its folder inside it; refuses existing results unless <paramref name="force"/>.</summary>
    public static string Folder(RunnerEnvironment environment, string? outOption, Shard? shard, bool force)
    {
        string folder = OutputLocation.ReportFolder(environment, outOption);
        if (shard is not null) folder = Path.Combine(folder, shard.FolderName);
        OutputLocation.CheckReportFolder(folder, force);
        return folder;
    }

    /// <summary>The shards' trial count must be the one their configuration gives today (same build, same catalog).</summary>
    public static void RequireSameTrials(ShardSet? merged, Sweep sweep)
    {
        if (merged is not null && merged.TotalTrials != sweep.TrialCount)
            throw new UsageException($"the shards in {Path.GetDirectoryName(merged.First.Folder)} hold {merged.TotalTrials} trials, " +
                                     $"but their configuration makes {sweep.TrialCount} with this build; merge with the build that ran them");
    }
}
