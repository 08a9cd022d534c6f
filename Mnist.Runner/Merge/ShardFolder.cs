using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Runner.Common;
using Spectre.Console;

namespace Mnist.Runner.Merge;

/// <summary>
/// A shard's folder (OUT/shard-K-of-N/): its results.json holds the run's usual settings (configuration,
/// data, machine) and a <see cref="ShardResult"/> with the shard's trials and the sweep's fingerprint.
/// </summary>
internal static class ShardFolder
{
    /// <summary>Options that differ between the shards of one sweep, or between a sweep and its merge: not part of the fingerprint.</summary>
    internal static readonly HashSet<string> PerRun = new(StringComparer.Ordinal) { "out", "force", "shard", "shard-count", "data" };

    /// <summary>Writes <paramref name="record"/> with its shard block as <paramref name="folder"/>/results.json (atomically).</summary>
    public static void Write(RunnerEnvironment environment, string folder, ExperimentResults record, Shard shard, int totalTrials, IReadOnlyList<TrialResult> trials)
    {
        var complete = record with
        {
            Shard = new ShardResult
            {
                Index = shard.Index,
                Count = shard.Count,
                TotalTrials = totalTrials,
                Fingerprint = Fingerprint(record.Kind, record.DataFolder ?? "", JsonSerializer.SerializeToElement(record.Configuration, ResultsJsonWriter.Options)),
                Trials = trials,
            },
        };
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, ResultsJsonWriter.FileName);
        ResultsJsonWriter.Write(path, complete);
        environment.Console.WriteLine($"Shard {shard}: {trials.Count} of {totalTrials} trials; wrote {path}");
    }

    /// <summary>
    /// A hash of what decides a sweep's trials: the command, the data folder and the resolved options except
    /// the per-run ones (output, shard). Equal fingerprints mean the shards can be merged.
    /// </summary>
    public static string Fingerprint(string kind, string dataFolder, JsonElement configuration)
    {
        var canonical = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        if (configuration.ValueKind == JsonValueKind.Object)
            foreach (var property in configuration.EnumerateObject().Where(p => !PerRun.Contains(p.Name)))
                canonical[property.Name] = property.Value;
        string text = JsonSerializer.Serialize(new { kind, dataFolder, configuration = canonical });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>The options that differ between two configurations (ignoring the per-run ones), for the error naming them.</summary>
    public static IReadOnlyList<string> Differences(JsonElement a, JsonElement b)
    {
        static Dictionary<string, string> Values(JsonElement c) => c.ValueKind != JsonValueKind.Object ? []
            : c.EnumerateObject().Where(p => !PerRun.Contains(p.Name)).ToDictionary(p => p.Name, p => p.Value.GetRawText(), StringComparer.Ordinal);
        var left = Values(a);
        var right = Values(b);
        return left.Keys.Union(right.Keys).Order(StringComparer.Ordinal)
            .Where(key => !(left.TryGetValue(key, out var x) && right.TryGetValue(key, out var y) && x == y))
            .ToList();
    }

    /// <summary>Reads one shard folder; anything that is not a shard's results.json is a <see cref="UsageException"/> naming it.</summary>
    public static ShardFile Read(string folder)
    {
        return RecordedResults.Read(folder, $"{folder}: no such folder",
            $"{folder}: not a shard folder (no {ResultsJsonWriter.FileName}; did that shard fail?)", "not a shard's results", (path, root) =>
        {
            string? kind = RecordedResults.String(root, "kind");
            if (!root.TryGetProperty("shard", out var block) || block.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{folder}: not a shard folder (its {ResultsJsonWriter.FileName} is a whole '{kind}' run, not a shard of one)");
            if (kind is not ("grid" or "cv")) throw new UsageException($"{path}: a shard of '{kind}', which merge does not know (grid, cv)");
            string dataFolder = RecordedResults.String(root, "dataFolder") ?? throw new UsageException($"{path}: no 'dataFolder'");
            if (!root.TryGetProperty("configuration", out var configuration) || configuration.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{path}: no 'configuration'");
            var shard = block.Deserialize<ShardResult>(ResultsJsonWriter.Options) ?? throw new UsageException($"{path}: an empty 'shard' block");
            if (shard.Count < 1 || shard.Index < 0 || shard.Index >= shard.Count || shard.TotalTrials < 0 || shard.Trials is null)
                throw new UsageException($"{path}: shard {shard.Index}/{shard.Count} of {shard.TotalTrials} trials is not a valid shard");
            var own = new Shard(shard.Index, shard.Count);
            if (!shard.Trials.Select(t => t.Index).SequenceEqual(Enumerable.Range(0, shard.TotalTrials).Where(own.Contains)))
                throw new UsageException($"{path}: shard {own} does not hold exactly its trials (index mod {own.Count} = {own.Index} of {shard.TotalTrials})");
            if (Fingerprint(kind, dataFolder, configuration) != shard.Fingerprint)
                throw new UsageException($"{path}: its configuration does not match its fingerprint {shard.Fingerprint} (edited?)");
            // Hyperparameters read back as JsonElement; turned into the plain values a fit reports (and writes back identically).
            var trials = shard.Trials.Select(t => t with { Hyperparameters = PlainValues(t.Hyperparameters) }).ToList();
            return new ShardFile(folder, kind, dataFolder, configuration.Clone(), shard with { Trials = trials });
        });
    }

    /// <summary>JSON values as a fit reports them: whole numbers as int (or long), other numbers as double, booleans, text.</summary>
    private static IReadOnlyDictionary<string, object> PlainValues(IReadOnlyDictionary<string, object> values) =>
        values.ToDictionary(p => p.Key, p => p.Value is JsonElement e ? e.ValueKind switch
        {
            JsonValueKind.Number when e.TryGetInt32(out int i) => i,
            JsonValueKind.Number when e.TryGetInt64(out long l) => l,
            JsonValueKind.Number => e.GetDouble(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => e.GetString()!,
            _ => (object)e.GetRawText(),
        } : p.Value);
}

/// <summary>One shard folder as read back.</summary>
/// <param name="Folder">Its full path.</param>
/// <param name="Kind">"grid" or "cv".</param>
/// <param name="DataFolder">The data folder the shard read.</param>
/// <param name="Configuration">The shard's resolved options.</param>
/// <param name="Shard">Its index, count, fingerprint and trials.</param>
internal sealed record ShardFile(string Folder, string Kind, string DataFolder, JsonElement Configuration, ShardResult Shard)
{
    public Shard Position => new(Shard.Index, Shard.Count);

    /// <summary>
    /// The sweep's options parsed again by <paramref name="command"/> (grid or cv), exactly as a --config file
    /// would be: the per-run ones dropped, --data the folder the shard read, and <paramref name="extra"/> tokens appended.
    /// </summary>
    public ParseResult Parse(Command command, IReadOnlyList<string> extra)
    {
        var options = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in Configuration.EnumerateObject())
            if (!ShardFolder.PerRun.Contains(property.Name)) options[property.Name] = property.Value;
        options["data"] = DataFolder;
        var config = ConfigFile.FromObject(Path.Combine(Folder, ResultsJsonWriter.FileName), JsonSerializer.SerializeToElement(options));
        var parsed = command.Parse([.. config.Tokens(command, command.Parse([])), .. extra]);
        if (parsed.Errors.Count > 0)
            throw new UsageException($"{Path.Combine(Folder, ResultsJsonWriter.FileName)}: its configuration does not parse as 'mnist {command.Name}': {parsed.Errors[0].Message}");
        return parsed;
    }
}
