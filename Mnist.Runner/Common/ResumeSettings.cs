using System.CommandLine;
using System.Text.Json;
using Mnist.Core.Reporting;
using Mnist.Runner.Compare;

namespace Mnist.Runner.Common;

/// <summary>
/// <c>--resume DIR</c>: the settings of the interrupted run come from DIR/results.json (its resolved
/// <c>configuration</c>); an option also given on the command line must agree with them, so a resume can
/// never silently mix two experiments.
/// </summary>
public static class ResumeSettings
{
    /// <summary>Options that may differ on a resume: where it writes and how it was asked.</summary>
    private static readonly HashSet<string> Free = new(StringComparer.Ordinal) { "out", "force", "config" };

    public static CompareOptions Compare(RunnerEnvironment environment, string folder, ParseResult parseResult, CommandOptions options)
    {
        var (configuration, dataFolder, configFile) = ReadInterrupted(folder, "compare");
        CheckConflicts(folder, configuration, dataFolder, parseResult, options, environment);
        string results = Path.Combine(folder, ResultsJsonWriter.FileName);
        int? Int(string key) => ResumeSettings.Int(configuration, key, results);

        return new CompareOptions
        {
            Trainers = Strings(configuration, "trainers"),
            Data = dataFolder,
            TrainLimit = Int("train-limit"),
            TestLimit = Int("test-limit"),
            ValidationFraction = configuration.TryGetValue("validation-fraction", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetDouble() : CommonOptions.DefaultValidationFraction,
            Seed = Int("seed") ?? CommonOptions.DefaultSeed,
            Threads = Int("threads"),
            Params = Strings(configuration, "param"),
            Repeat = Int("repeat") ?? 1,
            Resume = folder,
            CommandLine = CommandOptions.CommandLineText(parseResult),
            Invocation = new Invocation(CommandOptions.CommandLineText(parseResult),
                configuration.ToDictionary(kv => kv.Key, kv => (object?)kv.Value, StringComparer.Ordinal), configFile),
        };
    }

    /// <summary>DIR/results.json of an interrupted run of <paramref name="kind"/>: its configuration, data folder and config file.</summary>
    private static (Dictionary<string, JsonElement> Configuration, string DataFolder, string? ConfigFile) ReadInterrupted(string folder, string kind)
    {
        return RecordedResults.Read(folder, $"--resume {folder}: no such folder",
            $"--resume {folder}: no {ResultsJsonWriter.FileName} there, so no interrupted run to continue", "not valid JSON", (path, root) =>
        {
            string? runKind = RecordedResults.String(root, "kind");
            if (runKind != kind) throw new UsageException($"{path}: a '{runKind}' run, not '{kind}'; resume it with 'mnist {runKind}'");
            if (!(root.TryGetProperty("interrupted", out var i) && i.ValueKind == JsonValueKind.True))
                throw new UsageException($"{path}: that run finished; there is nothing to resume (use --out for a new run)");
            if (!root.TryGetProperty("configuration", out var c) || c.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{path}: no 'configuration' to resume with");
            string? data = RecordedResults.String(root, "dataFolder");
            if (data is null) throw new UsageException($"{path}: no 'dataFolder' to resume with");
            string? configFile = RecordedResults.String(root, "configFile");
            return (c.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal), data, configFile);
        });
    }

    /// <summary>Every option given on the command line (or by --config) must equal the interrupted run's value.</summary>
    private static void CheckConflicts(string folder, Dictionary<string, JsonElement> configuration, string dataFolder,
        ParseResult parseResult, CommandOptions options, RunnerEnvironment environment)
    {
        foreach (var option in options.All)
        {
            string key = CommandOptions.Key(option);
            if (Free.Contains(key) || parseResult.GetResult(option) is not { Implicit: false }) continue;
            object? given = options.Resolve(parseResult).TryGetValue(key, out var value) ? value : null;
            if (key == "data")
            {
                string typed = Path.GetFullPath((string)given!, environment.CurrentDirectory);
                if (!string.Equals(Path.TrimEndingDirectorySeparator(typed), Path.TrimEndingDirectorySeparator(dataFolder), StringComparison.Ordinal))
                    throw Conflict(folder, key, typed, dataFolder);
                continue;
            }
            string typedJson = JsonSerializer.Serialize(given, ResultsJsonWriter.Options);
            string storedJson = configuration.TryGetValue(key, out var stored) ? JsonSerializer.Serialize(stored, ResultsJsonWriter.Options) : "null";
            if (Normalize(typedJson) != Normalize(storedJson)) throw Conflict(folder, key, typedJson, storedJson);
        }
    }

    private static string Normalize(string json) => string.Concat(json.Where(c => !char.IsWhiteSpace(c)));

    private static UsageException Conflict(string folder, string key, string given, string stored) =>
        new($"--resume {folder}: --{key} {Normalize(given)} conflicts with the interrupted run's {Normalize(stored)}; leave it out to resume with the run's settings");

    /// <summary>The integer recorded for <paramref name="key"/>, or null when absent or not a number; a number written otherwise (1.5, 1e3, out of range) is a <see cref="UsageException"/> naming <paramref name="path"/>.</summary>
    private static int? Int(Dictionary<string, JsonElement> configuration, string key, string path)
    {
        if (!configuration.TryGetValue(key, out var v) || v.ValueKind != JsonValueKind.Number) return null;
        return v.TryGetInt32(out int value) ? value
            : throw new UsageException($"{path}: the configuration's '{key}' is {v.GetRawText()}, not a 32-bit integer written as one; the run cannot be resumed with it");
    }

    private static string[] Strings(Dictionary<string, JsonElement> configuration, string key) =>
        !configuration.TryGetValue(key, out var v) ? []
        : v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
        : v.ValueKind == JsonValueKind.String ? [v.GetString()!]
        : [];
}
