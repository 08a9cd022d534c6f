using System.CommandLine;
using System.Globalization;

namespace Mnist.Runner.Merge;

/// <summary>
/// Shard K of N of a sweep: the trials whose index i has i mod N == K. The partition depends only on the
/// sweep's fixed trial order, so every machine of a job array computes the same one.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    /// <summary>The whole sweep: what an unsharded run executes.</summary>
    public static readonly Shard Whole = new(0, 1);

    public const string SlurmTaskId = "SLURM_ARRAY_TASK_ID";
    public const string SlurmTaskCount = "SLURM_ARRAY_TASK_COUNT";
    public const string SlurmTaskMin = "SLURM_ARRAY_TASK_MIN";
    public const string KubernetesIndex = "JOB_COMPLETION_INDEX";

    public bool Contains(int trial) => trial % Count == Index;

    /// <summary>The shard's folder inside the sweep's --out folder: shard-K-of-N, K zero-padded so the folders sort.</summary>
    public string FolderName =>
        $"shard-{Index.ToString(CultureInfo.InvariantCulture).PadLeft((Count - 1).ToString(CultureInfo.InvariantCulture).Length, '0')}-of-{Count.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => $"{Index.ToString(CultureInfo.InvariantCulture)}/{Count.ToString(CultureInfo.InvariantCulture)}";

    public static Option<string?> Option() => new("--shard")
    {
        Description = $"Run only shard K of N: the trials whose index mod N is K, written to OUT/shard-K-of-N/ for 'mnist merge' " +
                      $"(default: from {SlurmTaskId}/{SlurmTaskCount} in a Slurm array job, or {KubernetesIndex} with --shard-count)",
        HelpName = "K/N",
    };

    public static Option<int?> CountOption() => new("--shard-count")
    {
        Description = $"The number of shards N when the shard index comes from {KubernetesIndex} (a Kubernetes Indexed Job: its completions)",
        HelpName = "N",
    };

    /// <summary>
    /// The shard to run: --shard K/N; else a Slurm array task's; else JOB_COMPLETION_INDEX with --shard-count;
    /// null for the whole sweep. A malformed or out-of-range value is a <see cref="UsageException"/>.
    /// </summary>
    public static Shard? Resolve(RunnerEnvironment environment, string? option, int? count)
    {
        if (count is < 1) throw new UsageException($"--shard-count must be at least 1, not {count}");
        if (option is not null)
        {
            var shard = Parse(option);
            if (count is int n && n != shard.Count)
                throw new UsageException($"--shard-count {n} disagrees with --shard {option}; give one of them");
            return shard;
        }
        if (environment.Variable(SlurmTaskId) is { } slurmId)
        {
            int id = Number(SlurmTaskId, slurmId);
            int min = environment.Variable(SlurmTaskMin) is { } m ? Number(SlurmTaskMin, m) : 0;
            string total = environment.Variable(SlurmTaskCount)
                ?? throw new UsageException($"{SlurmTaskId} is set but {SlurmTaskCount} is not; submit with sbatch --array=0-(N-1), or pass --shard K/N");
            int shards = Number(SlurmTaskCount, total);
            if (shards < 1) throw new UsageException($"{SlurmTaskCount}={total} must be at least 1");
            return Checked(id - min, shards, $"{SlurmTaskId}={slurmId} (minus {SlurmTaskMin}={min}) with {SlurmTaskCount}={total}");
        }
        if (count is int shardCount)
        {
            string index = environment.Variable(KubernetesIndex)
                ?? throw new UsageException($"--shard-count takes the shard index from {KubernetesIndex}, which is not set; pass --shard K/N instead");
            return Checked(Number(KubernetesIndex, index), shardCount, $"{KubernetesIndex}={index} with --shard-count {shardCount}");
        }
        return null;
    }

    /// <summary>Parses "K/N" with 0 ≤ K &lt; N.</summary>
    public static Shard Parse(string text)
    {
        int slash = text.IndexOf('/');
        if (slash <= 0 || !int.TryParse(text[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            throw new UsageException($"--shard '{text}' must look like K/N with whole numbers, e.g. 0/4 for the first of four shards");
        if (count < 1) throw new UsageException($"--shard '{text}': N must be at least 1");
        return Checked(index, count, $"--shard '{text}'");
    }

    private static Shard Checked(int index, int count, string source) =>
        index >= 0 && index < count ? new Shard(index, count)
            : throw new UsageException($"{source}: shard {index} is outside 0..{count - 1}");

    private static int Number(string name, string value) =>
        int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number)
            ? number
            : throw new UsageException($"{name}='{value}' is not a whole number");
}
