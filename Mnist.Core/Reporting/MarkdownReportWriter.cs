using System.Globalization;
using System.Text;

namespace Mnist.Core.Reporting;

/// <summary>
/// Renders <see cref="ExperimentResults"/> as report.md: the summary table, the settings, the machine,
/// then per model its hyperparameters, confusion matrix, per-class figures, most-confused pairs and
/// epoch history.
/// </summary>
public static class MarkdownReportWriter
{
    public const string FileName = "report.md";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Writes the report atomically (temporary file renamed into place).</summary>
    public static void Write(string path, ExperimentResults results, string? title = null) =>
        AtomicFile.WriteAllText(path, Render(results, title));

    public static string Render(ExperimentResults results, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        var md = new StringBuilder();
        md.Append("# ").AppendLine(title ?? $"MNIST {results.Kind}, {results.CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss", Invariant)} UTC");
        md.AppendLine();
        AppendSummaryTable(md, results);
        AppendSettings(md, results);
        AppendMachine(md, results);
        md.AppendLine("## Models").AppendLine();
        if (results.Models.Count == 0) md.AppendLine("No models were trained.").AppendLine();
        foreach (var model in results.Models) AppendModel(md, model);
        return md.ToString();
    }

    /// <summary>Accuracy as a percentage with two decimals, or "—" when absent.</summary>
    public static string Percent(double? fraction) =>
        fraction is double f ? (f * 100).ToString("0.00", Invariant) + "%" : "—";

    /// <summary>A duration in seconds, with precision that suits its size.</summary>
    public static string Seconds(double seconds) => seconds switch
    {
        < 0.01 => (seconds * 1000).ToString("0.0", Invariant) + " ms",
        < 10 => seconds.ToString("0.00", Invariant) + " s",
        < 120 => seconds.ToString("0.0", Invariant) + " s",
        _ => $"{(int)(seconds / 60)} min {(seconds % 60).ToString("00", Invariant)} s",
    };

    /// <summary>Escapes text for a markdown table cell (pipes, newlines).</summary>
    public static string Cell(string? text) =>
        string.IsNullOrEmpty(text) ? "" : text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");

    private static void AppendSummaryTable(StringBuilder md, ExperimentResults results)
    {
        md.AppendLine("| Trainer | Train acc | Validation acc | Test acc | Fit time | Predict time |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var m in results.Models)
            md.Append("| ").Append(Cell(m.Trainer))
              .Append(" | ").Append(Percent(m.TrainAccuracy))
              .Append(" | ").Append(Percent(m.ValidationAccuracy))
              .Append(" | ").Append(Percent(m.TestAccuracy))
              .Append(" | ").Append(Seconds(m.FitSeconds))
              .Append(" | ").Append(Seconds(m.PredictSeconds))
              .AppendLine(" |");
        md.AppendLine();
        if (results.TestCount > 0 && !results.TestHasLabels)
            md.AppendLine("The test set has no labels, so test accuracy is unknown; confusion matrices and per-class figures below are on the validation set.").AppendLine();
    }

    private static void AppendSettings(StringBuilder md, ExperimentResults results)
    {
        md.AppendLine("## Settings").AppendLine();
        md.Append("- Data: `").Append(results.DataFolder ?? "?").Append("` (").Append(results.DataFormat ?? "?").AppendLine(")");
        if (results.DataFiles.Count > 0)
            md.Append("- Files: ").AppendLine(string.Join(", ", results.DataFiles.Select(f => $"`{Path.GetFileName(f)}`")));
        md.Append("- Images: ").Append(results.TrainCount.ToString(Invariant)).Append(" train, ")
          .Append(results.ValidationCount.ToString(Invariant)).Append(" validation, ")
          .Append(results.TestCount.ToString(Invariant)).Append(" test")
          .AppendLine(results.TestCount == 0 ? "" : results.TestHasLabels ? " (labelled)" : " (unlabelled)");
        md.Append("- Validation fraction: ").AppendLine(results.ValidationFraction.ToString("0.###", Invariant));
        md.Append("- Train limit: ").AppendLine(results.TrainLimit?.ToString(Invariant) ?? "none");
        md.Append("- Test limit: ").AppendLine(results.TestLimit?.ToString(Invariant) ?? "none");
        md.Append("- Seed: ").AppendLine(results.Seed.ToString(Invariant));
        md.Append("- Threads: ").AppendLine(results.Threads.ToString(Invariant));
        if (results.Command is not null) md.Append("- Command: `").Append(results.Command.Replace("`", "'")).AppendLine("`");
        md.AppendLine();
    }

    private static void AppendMachine(StringBuilder md, ExperimentResults results)
    {
        md.AppendLine("## Machine").AppendLine();
        if (results.Machine is { } machine)
        {
            md.Append("- OS: ").Append(machine.Os).Append(" (").Append(machine.Architecture).AppendLine(")");
            md.Append("- CPUs: ").Append(machine.ProcessorCount.ToString(Invariant));
            if (machine.ProcessorName is not null) md.Append(" × ").Append(machine.ProcessorName);
            md.AppendLine();
            if (machine.MemoryGiB is double memory) md.Append("- Memory: ").Append(memory.ToString("0.#", Invariant)).AppendLine(" GiB");
            md.Append("- .NET: ").AppendLine(machine.DotnetVersion);
        }
        md.Append("- MnistExperiments version: ").AppendLine(results.Version);
        md.AppendLine();
    }

    private static void AppendModel(StringBuilder md, ModelResult model)
    {
        md.Append("### ").AppendLine(model.Trainer).AppendLine();
        md.Append("Fit ").Append(Seconds(model.FitSeconds)).Append("; predicting ")
          .Append(model.PredictCount.ToString(Invariant)).Append(' ').Append(model.PredictSet).Append(" images took ")
          .Append(Seconds(model.PredictSeconds)).AppendLine(".").AppendLine();

        md.AppendLine("#### Hyperparameters").AppendLine();
        if (model.Hyperparameters.Count == 0) md.AppendLine("None.");
        else
        {
            md.AppendLine("| Name | Value |").AppendLine("|---|---|");
            foreach (var (name, value) in model.Hyperparameters)
                md.Append("| ").Append(Cell(name)).Append(" | ").Append(Cell(FormatValue(value))).AppendLine(" |");
        }
        md.AppendLine();

        AppendConfusionMatrix(md, model);
        AppendPerClass(md, model);

        if (model.MostConfused.Count > 0)
        {
            md.Append("#### Most confused (").Append(model.EvaluationSet).AppendLine(" set)").AppendLine();
            foreach (var pair in model.MostConfused)
                md.Append("- true ").Append(pair.True.ToString(Invariant)).Append(" predicted as ")
                  .Append(pair.Predicted.ToString(Invariant)).Append(": ").Append(pair.Count.ToString(Invariant)).AppendLine();
            md.AppendLine();
        }

        if (model.History is { Count: > 0 } history)
        {
            md.AppendLine("#### Training history").AppendLine();
            md.AppendLine("| Epoch | Train loss | Train acc | Validation loss | Validation acc | Learning rate | Seconds | Images/s |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var e in history)
                md.Append("| ").Append(e.Epoch.ToString(Invariant))
                  .Append(" | ").Append(Number(e.TrainLoss))
                  .Append(" | ").Append(Percent(e.TrainAccuracy))
                  .Append(" | ").Append(e.ValidationLoss is double vl ? Number(vl) : "—")
                  .Append(" | ").Append(Percent(e.ValidationAccuracy))
                  .Append(" | ").Append(e.LearningRate.ToString("G4", Invariant))
                  .Append(" | ").Append(e.Seconds.ToString("0.00", Invariant))
                  .Append(" | ").Append(e.ImagesPerSecond.ToString("0", Invariant))
                  .AppendLine(" |");
            md.AppendLine();
        }
    }

    private static void AppendConfusionMatrix(StringBuilder md, ModelResult model)
    {
        int[][] matrix = model.ConfusionMatrix;
        int total = matrix.Sum(row => row.Sum());
        md.Append("#### Confusion matrix (").Append(model.EvaluationSet).Append(" set, ").Append(total.ToString(Invariant))
          .AppendLine(" images; rows = true class, columns = predicted)").AppendLine();
        int classes = matrix.Length;
        md.Append("| true \\ predicted |");
        for (int c = 0; c < classes; c++) md.Append(' ').Append(c.ToString(Invariant)).Append(" |");
        md.AppendLine();
        md.Append("|---:|");
        for (int c = 0; c < classes; c++) md.Append("---:|");
        md.AppendLine();
        for (int r = 0; r < classes; r++)
        {
            md.Append("| **").Append(r.ToString(Invariant)).Append("** |");
            for (int c = 0; c < matrix[r].Length; c++)
            {
                string cell = matrix[r][c].ToString(Invariant);
                md.Append(' ').Append(r == c ? $"**{cell}**" : cell).Append(" |");
            }
            md.AppendLine();
        }
        md.AppendLine();
    }

    private static void AppendPerClass(StringBuilder md, ModelResult model)
    {
        if (model.PerClass.Count == 0) return;
        md.Append("#### Per class (").Append(model.EvaluationSet).AppendLine(" set)").AppendLine();
        md.AppendLine("| Class | Precision | Recall | F1 | Support |").AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var c in model.PerClass)
            md.Append("| ").Append(c.Class.ToString(Invariant))
              .Append(" | ").Append(c.Precision.ToString("0.0000", Invariant))
              .Append(" | ").Append(c.Recall.ToString("0.0000", Invariant))
              .Append(" | ").Append(c.F1.ToString("0.0000", Invariant))
              .Append(" | ").Append(c.Support.ToString(Invariant)).AppendLine(" |");
        md.AppendLine();
        md.Append("Macro-F1: ").Append(model.MacroF1.ToString("0.0000", Invariant));
        if (model.LogLoss is double logLoss) md.Append("; log-loss: ").Append(Number(logLoss));
        else md.Append("; log-loss: n/a (uncalibrated scores)");
        md.AppendLine(".").AppendLine();
    }

    private static string Number(double value) =>
        double.IsFinite(value) ? value.ToString("0.0000", Invariant) : value.ToString(Invariant);

    private static string FormatValue(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("R", Invariant),
        float f => f.ToString("R", Invariant),
        bool b => b ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, Invariant),
        _ => value.ToString() ?? "",
    };
}
