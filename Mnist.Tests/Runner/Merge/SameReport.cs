using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mnist.Tests.Runner.Merge;

/// <summary>Compares a merged report folder with an unsharded run's: the same pictures, results and report, timings aside.</summary>
internal static partial class SameReport
{
    /// <summary>The merged folder holds the same pictures, report.md and results.json as the unsharded one, timings and the run's own lines aside.</summary>
    public static void Assert(string whole, string merged)
    {
        static string[] Files(string folder) => Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        NUnit.Framework.Assert.That(Files(merged), Is.EqualTo(Files(whole)));
        foreach (string svg in Files(whole).Where(f => f.EndsWith(".svg", StringComparison.Ordinal)))
            NUnit.Framework.Assert.That(File.ReadAllText(Path.Combine(merged, svg)), Is.EqualTo(File.ReadAllText(Path.Combine(whole, svg))), svg);
        NUnit.Framework.Assert.That(Normalized(Path.Combine(merged, "results.json")).ToJsonString(), Is.EqualTo(Normalized(Path.Combine(whole, "results.json")).ToJsonString()));
        NUnit.Framework.Assert.That(ReportWithoutTimings(Path.Combine(merged, "report.md")), Is.EqualTo(ReportWithoutTimings(Path.Combine(whole, "report.md"))));
    }

    /// <summary>results.json without what differs between two runs of one experiment: timings, memory peaks, dates, the command line and output folder.</summary>
    public static JsonNode Normalized(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        static void Strip(JsonNode? node)
        {
            if (node is JsonObject o)
            {
                foreach (string key in o.Select(p => p.Key).ToList())
                    if (key is "fitSeconds" or "predictSeconds" or "seconds" or "imagesPerSecond" or "createdUtc" or "command" or "configuration" or "machine" or "peakWorkingSetBytes") o.Remove(key);
                    else Strip(o[key]);
            }
            else if (node is JsonArray a) foreach (var item in a) Strip(item);
        }
        Strip(root);
        return root;
    }

    private static string ReportWithoutTimings(string path) => string.Join('\n', File.ReadAllLines(path)
        .Where(line => !line.StartsWith("# MNIST", StringComparison.Ordinal) && !line.StartsWith("- Command:", StringComparison.Ordinal)
                       && !line.StartsWith("  \"out\":", StringComparison.Ordinal) && !line.StartsWith("  \"data\":", StringComparison.Ordinal))
        .Select(line => HistoryTimings().Replace(Timings().Replace(line, "T"), "| T | T |")));

    [GeneratedRegex(@"\d[\d,]*(\.\d+)? (ms|s|MiB)\b|\d+ min \d+ s")]
    private static partial Regex Timings();

    /// <summary>The last two cells of a history row: epoch seconds and images per second.</summary>
    [GeneratedRegex(@"\| [\d.]+ \| \d+ \|$")]
    private static partial Regex HistoryTimings();
}
