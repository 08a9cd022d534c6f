namespace Mnist.Core.Reporting;

/// <summary>Writes a run's whole report folder: the pictures, then report.md, then results.json.</summary>
public static class ExperimentReport
{
    /// <summary>
    /// Writes the SVG pictures (<see cref="ReportFigures"/>), report.md and results.json into
    /// <paramref name="folder"/>, each file atomically; results.json comes last, so its presence means
    /// the report is complete. Returns the results with their <see cref="ExperimentResults.Figures"/>.
    /// </summary>
    public static ExperimentResults Write(string folder, ExperimentResults results, IReadOnlyList<ModelPredictions>? predictions = null, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        Directory.CreateDirectory(folder);
        var figures = ReportFigures.Write(folder, results, predictions);
        var complete = results with { Figures = figures };
        MarkdownReportWriter.Write(Path.Combine(folder, MarkdownReportWriter.FileName), complete, title);
        ResultsJsonWriter.Write(Path.Combine(folder, ResultsJsonWriter.FileName), complete);
        return complete;
    }
}
