using System.Globalization;
using Mnist.Core.IO;
using Mnist.Core.Reporting;

namespace Mnist.Runner.Common;

/// <summary>Where a command writes, and the guard against overwriting an earlier run.</summary>
public static class OutputLocation
{
    /// <summary>The full path of --out, or reports/&lt;yyyyMMdd-HHmmss&gt;/ under the current directory.</summary>
    public static string ReportFolder(RunnerEnvironment environment, string? option) => Path.GetFullPath(
        option ?? Path.Combine("reports", environment.Now().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)),
        environment.CurrentDirectory);

    /// <summary>
    /// Refuses a report folder that is a file, or that already holds results.json, unless <paramref name="force"/>;
    /// a folder the file system will not let us write is an <see cref="OutputWriteException"/> before any training.
    /// </summary>
    public static void CheckReportFolder(string folder, bool force, string optionName = "--out")
    {
        if (File.Exists(folder)) throw new UsageException($"{optionName} {folder} is a file, not a folder");
        AtomicFile.CheckWritable(Path.Combine(folder, ResultsJsonWriter.FileName));
        string results = Path.Combine(folder, ResultsJsonWriter.FileName);
        if (File.Exists(results) && !force)
            throw new UsageException(IsInterrupted(results)
                ? $"{results} is an interrupted run; continue it with --resume {folder}, or pass --force to start over"
                : $"{results} already exists; choose another {optionName} or pass --force to overwrite it");
    }

    /// <summary>Whether a results.json says its run was interrupted (unreadable counts as not).</summary>
    private static bool IsInterrupted(string results)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(results));
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && document.RootElement.TryGetProperty("interrupted", out var value) && value.ValueKind == System.Text.Json.JsonValueKind.True;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Refuses to overwrite an existing output file unless <paramref name="force"/>, and an unwritable one (<see cref="OutputWriteException"/>).</summary>
    public static void CheckFile(string path, bool force, string optionName)
    {
        if (Directory.Exists(path)) throw new UsageException($"{optionName} {path} is a folder, not a file");
        AtomicFile.CheckWritable(path);
        if (File.Exists(path) && !force)
            throw new UsageException($"{path} already exists; choose another {optionName} or pass --force to overwrite it");
    }
}
