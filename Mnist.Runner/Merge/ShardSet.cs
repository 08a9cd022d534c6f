using Mnist.Core.Reporting;

namespace Mnist.Runner.Merge;

/// <summary>
/// Every shard of one sweep, checked to belong together: one kind and fingerprint, one shard count, each
/// shard once and none missing. <see cref="Trials"/> is then the whole sweep's trials in order, as an
/// unsharded run would have computed them.
/// </summary>
internal sealed class ShardSet
{
    private ShardSet(IReadOnlyList<ShardFile> shards)
    {
        Shards = shards;
        Trials = shards.SelectMany(s => s.Shard.Trials).OrderBy(t => t.Index).ToList();
    }

    /// <summary>The shards, by index.</summary>
    public IReadOnlyList<ShardFile> Shards { get; }

    public ShardFile First => Shards[0];

    public string Kind => First.Kind;

    public int TotalTrials => First.Shard.TotalTrials;

    public IReadOnlyList<TrialResult> Trials { get; }

    /// <summary>Reads and checks the shard folders; any problem is one <see cref="UsageException"/> naming the folders.</summary>
    public static ShardSet Read(IReadOnlyList<string> folders)
    {
        if (folders.Count == 0) throw new UsageException("give the shard folders to merge, e.g. mnist merge sweep/shard-* --out sweep/merged");
        var shards = folders.Select(ShardFolder.Read).ToList();
        var first = shards[0];
        foreach (var other in shards.Skip(1))
        {
            if (other.Kind != first.Kind || other.Shard.Fingerprint != first.Shard.Fingerprint || other.Shard.TotalTrials != first.Shard.TotalTrials)
            {
                var differences = ShardFolder.Differences(first.Configuration, other.Configuration);
                string what = other.Kind != first.Kind ? $"a '{first.Kind}' and a '{other.Kind}' run"
                    : differences.Count > 0 ? $"different {string.Join(", ", differences.Select(d => "--" + d))}"
                    : other.DataFolder != first.DataFolder ? $"data {first.DataFolder} and {other.DataFolder}"
                    : $"fingerprints {first.Shard.Fingerprint} and {other.Shard.Fingerprint}";
                throw new UsageException($"{first.Folder} and {other.Folder} are shards of different sweeps ({what})");
            }
            if (other.Shard.Count != first.Shard.Count)
                throw new UsageException($"{first.Folder} is shard {first.Position} but {other.Folder} is shard {other.Position}: the sweep was split two ways");
        }

        var duplicated = shards.GroupBy(s => s.Shard.Index).FirstOrDefault(g => g.Count() > 1);
        if (duplicated is not null)
            throw new UsageException($"shard {duplicated.First().Position} given {duplicated.Count()} times: {string.Join(", ", duplicated.Select(s => s.Folder))}");

        int count = first.Shard.Count;
        var missing = Enumerable.Range(0, count).Except(shards.Select(s => s.Shard.Index)).ToList();
        if (missing.Count > 0)
            throw new UsageException($"missing shard{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(k => new Shard(k, count).ToString()))} " +
                                     $"of the sweep in {Path.GetDirectoryName(first.Folder)} (given: {string.Join(", ", shards.OrderBy(s => s.Shard.Index).Select(s => s.Position.ToString()))}); run {(missing.Count > 1 ? "them" : "it")}, then merge again");
        return new ShardSet(shards.OrderBy(s => s.Shard.Index).ToList());
    }
}
