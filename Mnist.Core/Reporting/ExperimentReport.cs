using Mnist.Core.IO;

namespace Mnist.Core.Reporting;

/// <summary>Writes a run's whole report folder: the pictures, then report.md, then results.json.</summary>
public static class ExperimentReport
{
    /// <summary>
    /// Writes the SVG pictures (<see cref="ReportFigures"/>), report.md and results.json into
    /// <paramref name="folder"/>, each file atomically; results.json comes last, so its presence means
    /// the report is complete. When a write fails (a full disk, say), the files this call had written are
    /// removed again, so no partial report is left. Returns the results with their <see cref="ExperimentResults.Figures"/>.
    /// </summary>
    public static ExperimentResults Write(string folder, ExperimentResults results, IReadOnlyList<ModelPredictions>? predictions = null, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        AtomicFile.CreateFolder(folder);
        var before = Files(folder);
        try
        {
            var figures = ReportFigures.Write(folder, results, predictions);
            var complete = results with { Figures = figures };
            MarkdownReportWriter.Write(Path.Combine(folder, MarkdownReportWriter.FileName), complete, title);
            ResultsJsonWriter.Write(Path.Combine(folder, ResultsJsonWriter.FileName), complete);
            return complete;
        }
        catch (OutputWriteException)
        {
            foreach (var (file, written) in Files(folder))
            {
                if (before.TryGetValue(file, out var earlier) && earlier == written) continue;
                try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            throw;
        }
    }

    /// <summary>The files directly in <paramref name="folder"/> with their last write times.</summary>
    private static Dictionary<string, DateTime> Files(string folder) =>
        Directory.EnumerateFiles(folder).ToDictionary(f => f, File.GetLastWriteTimeUtc);
}
