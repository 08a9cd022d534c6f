using System.Globalization;
using System.Text;
using Mnist.Core.IO;

namespace Mnist.Core.Reporting;

/// <summary>
/// Renders <see cref="ExperimentResults"/> as report.md: the summary table, the settings, the machine,
/// then per model its hyperparameters, confusion matrix, per-class figures, most-confused pairs and
/// epoch history.
/// </summary>
internal static class MarkdownReportWriter
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
        AppendInterruption(md, results);
        bool onlyScores = results.Models.Count == 0 && (results.CrossValidation is not null || results.GridSearch is not null);
        if (!onlyScores)
        {
            AppendSummaryTable(md, results);
            AppendFigures(md, results, ReportFigures.AccuracyKind, null);
        }
        AppendRepeats(md, results);
        AppendSubmission(md, results);
        AppendCrossValidation(md, results);
        AppendGridSearch(md, results);
        AppendSettings(md, results);
        AppendConfiguration(md, results);
        AppendMachine(md, results);
        if (!onlyScores)
        {
            md.AppendLine("## Models").AppendLine();
            if (results.Models.Count == 0) md.AppendLine("No models were trained.").AppendLine();
            foreach (var model in results.Models) AppendModel(md, model, results.Figures);
        }
        return md.ToString();
    }

    /// <summary>Markdown image links for the figures of <paramref name="kind"/> (of one model, or of the run when <paramref name="trainer"/> is null).</summary>
    private static void AppendFigures(StringBuilder md, ExperimentResults results, string kind, string? trainer) =>
        AppendFigures(md, results.Figures, kind, trainer);

    private static void AppendFigures(StringBuilder md, IReadOnlyList<ReportFigure> figures, string kind, string? trainer)
    {
        foreach (var figure in figures.Where(f => f.Kind == kind && string.Equals(f.Trainer, trainer, StringComparison.Ordinal)))
            md.Append("![").Append(AltText(figure.Caption)).Append("](").Append(LinkTarget(figure.File)).AppendLine(")").AppendLine();
    }

    private static string AltText(string text) => text.Replace("[", "(").Replace("]", ")").Replace("\r", " ").Replace("\n", " ");

    /// <summary>A relative link: path segments percent-encoded where markdown or URLs would choke.</summary>
    private static string LinkTarget(string file) =>
        string.Join('/', file.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString));

    private static void AppendSubmission(StringBuilder md, ExperimentResults results)
    {
        if (results.Submission is not { } submission) return;
        md.AppendLine("## Submission").AppendLine();
        md.Append("- File: `").Append(submission.Path.Replace("`", "'")).AppendLine("`");
        md.Append("- Rows: ").AppendLine(submission.Rows.ToString(Invariant));
        md.Append("- Predicted classes: ").AppendLine(string.Join(", ",
            submission.PredictedClassCounts.Select((count, label) => $"{label.ToString(Invariant)}: {count.ToString(Invariant)}")));
        md.AppendLine();
        foreach (var model in results.Models) AppendFigures(md, results, ReportFigures.UnlabelledKind, model.Trainer);
    }

    private static void AppendCrossValidation(StringBuilder md, ExperimentResults results)
    {
        if (results.CrossValidation is not { } cv) return;
        md.Append("## Cross-validation (").Append(cv.Folds.ToString(Invariant)).AppendLine("-fold, stratified)").AppendLine();
        md.AppendLine("Each fold is held out once; the trainer never sees it while fitting. Mean and sample standard deviation (n − 1) of the fold accuracies.").AppendLine();
        md.Append("| Trainer | Mean acc | Std dev |");
        for (int f = 1; f <= cv.Folds; f++) md.Append(" Fold ").Append(f.ToString(Invariant)).Append(" |");
        md.AppendLine(" Fit time |");
        md.Append("|---|---:|---:|");
        for (int f = 0; f < cv.Folds; f++) md.Append("---:|");
        md.AppendLine("---:|");
        foreach (var t in cv.Trainers)
        {
            md.Append("| ").Append(Cell(t.Trainer)).Append(" | ").Append(Percent(t.MeanAccuracy))
              .Append(" | ").Append(Points(t.StandardDeviation)).Append(" |");
            foreach (double a in t.FoldAccuracies) md.Append(' ').Append(Percent(a)).Append(" |");
            md.Append(' ').Append(Seconds(t.FitSeconds)).AppendLine(" |");
        }
        md.AppendLine();
        AppendFigures(md, results, ReportFigures.CrossValidationKind, null);
        foreach (var t in cv.Trainers.Where(t => t.Hyperparameters.Count > 0))
            md.Append("- ").Append(t.Trainer).Append(": ").AppendLine(string.Join(", ", t.Hyperparameters.Select(h => $"{h.Key}={FormatValue(h.Value)}")));
        if (cv.Trainers.Any(t => t.Hyperparameters.Count > 0)) md.AppendLine();
    }

    private static void AppendRepeats(StringBuilder md, ExperimentResults results)
    {
        if (results.Repeats is not { } repeats) return;
        md.Append("## Repeats (").Append(repeats.Count.ToString(Invariant)).AppendLine(" seeds)").AppendLine();
        md.Append("Each trainer fitted with seeds ").Append(results.Seed.ToString(Invariant)).Append("..").Append((results.Seed + repeats.Count - 1).ToString(Invariant))
          .AppendLine(" on the same split (the models above are those of the first seed). Mean ± sample standard deviation (n − 1).").AppendLine();
        md.AppendLine("| Trainer | Test acc | Validation acc | Test acc per seed | Fit time (mean) |").AppendLine("|---|---:|---:|---|---:|");
        foreach (var t in repeats.Trainers)
            md.Append("| ").Append(Cell(t.Trainer))
              .Append(" | ").Append(MeanAndSd(t.TestMean, t.TestStandardDeviation))
              .Append(" | ").Append(MeanAndSd(t.ValidationMean, t.ValidationStandardDeviation))
              .Append(" | ").Append(string.Join(" ", t.Runs.Select(r => r.TestAccuracy is double a ? (a * 100).ToString("0.00", Invariant) : "—")))
              .Append(" | ").Append(Seconds(t.FitSeconds)).AppendLine(" |");
        md.AppendLine();
    }

    /// <summary>"99.61% ± 0.04 pt", or "—".</summary>
    public static string MeanAndSd(double? mean, double? standardDeviation) =>
        mean is double m ? $"{Percent(m)} ± {Points(standardDeviation ?? double.NaN)}" : "—";

    private static void AppendGridSearch(StringBuilder md, ExperimentResults results)
    {
        if (results.GridSearch is not { } grid) return;
        md.Append("## Grid search: ").Append(grid.Trainer).Append(" (")
          .Append(grid.Method == "k-fold" ? $"{grid.Folds?.ToString(Invariant)}-fold cross-validation" : $"holdout validation, fraction {grid.ValidationFraction?.ToString("0.###", Invariant)}")
          .AppendLine(")").AppendLine();
        foreach (var (name, values) in grid.Parameters)
            md.Append("- `").Append(name).Append("`: ").AppendLine(string.Join(", ", values.Select(v => $"`{v.Replace("`", "'")}`")));
        md.AppendLine();
        var names = grid.Parameters.Keys.ToList();
        md.Append("| Rank |");
        foreach (string name in names) md.Append(' ').Append(Cell(name)).Append(" |");
        md.Append(grid.Method == "k-fold" ? " Mean acc | Std dev | Folds |" : " Validation acc |").AppendLine(" Fit time |");
        md.Append("|---:|");
        foreach (string _ in names) md.Append("---|");
        md.Append(grid.Method == "k-fold" ? "---:|---:|---|" : "---:|").AppendLine("---:|");
        foreach (var c in grid.Candidates)
        {
            md.Append("| ").Append(c.Rank.ToString(Invariant)).Append(" |");
            foreach (string name in names)
                md.Append(' ').Append(Cell(c.Parameters.TryGetValue(name, out var v) ? FormatValue(v) : "?")).Append(" |");
            md.Append(' ').Append(c.Rank == 1 ? $"**{Percent(c.Score)}**" : Percent(c.Score)).Append(" |");
            if (grid.Method == "k-fold")
                md.Append(' ').Append(c.StandardDeviation is double sd ? Points(sd) : "—").Append(" | ")
                  .Append(string.Join(" ", c.FoldAccuracies.Select(a => (a * 100).ToString("0.00", Invariant)))).Append(" |");
            md.Append(' ').Append(Seconds(c.FitSeconds)).AppendLine(" |");
        }
        md.AppendLine();
        if (grid.Best is { } best)
        {
            md.Append("Best: ").Append(string.Join(", ", best.Parameters.Select(p => $"`{p.Key}={FormatValue(p.Value)}`")))
              .Append(" (").Append(Percent(best.Score)).Append(')')
              .AppendLine(results.Models.Count == 0 ? " — not refitted."
                  : " — refitted on the whole training set" + (results.Models[0].TestAccuracy is double test ? $"; test accuracy {Percent(test)}." : "."));
            md.AppendLine();
        }
        AppendFigures(md, results, ReportFigures.GridSearchKind, null);
    }

    private static void AppendConfiguration(StringBuilder md, ExperimentResults results)
    {
        if (results.Configuration is not { Count: > 0 } configuration) return;
        md.AppendLine("## Configuration").AppendLine();
        md.Append("The resolved options (command line over ").Append(results.ConfigFile is null ? "defaults" : $"`{results.ConfigFile.Replace("`", "'")}` over defaults")
          .AppendLine("); as a config file for `--config`:").AppendLine();
        md.AppendLine("```json");
        md.AppendLine(System.Text.Json.JsonSerializer.Serialize(configuration, ResultsJsonWriter.Options));
        md.AppendLine("```").AppendLine();
    }

    /// <summary>A fraction's standard deviation in percentage points ("0.04 pt"), or "—".</summary>
    public static string Points(double fraction) =>
        double.IsFinite(fraction) ? (fraction * 100).ToString("0.00", Invariant) + " pt" : "—";

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
        md.AppendLine("| Trainer | Engine | Train acc | Validation acc | Test acc | Fit time | Predict time |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var m in results.Models)
            md.Append("| ").Append(Cell(m.Trainer))
              .Append(" | ").Append(Cell(m.Engine))
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

    /// <summary>The banner of an interrupted run: what finished, what was in progress, how to resume.</summary>
    private static void AppendInterruption(StringBuilder md, ExperimentResults results)
    {
        if (!results.Interrupted) return;
        var info = results.Interruption;
        md.AppendLine("> **INTERRUPTED** — this run was stopped before it finished; the figures below are those of the trainers that completed.");
        if (info is not null)
        {
            md.AppendLine(">");
            md.Append("> - Finished: ").AppendLine(info.Finished.Count == 0 ? "none" : string.Join(", ", info.Finished.Select(t => $"`{t}`")));
            if (info.InProgress is not null)
                md.Append("> - In progress: `").Append(info.InProgress).Append('`')
                  .AppendLine(info.Checkpoint is null ? " (no checkpoint: it restarts on resume)" : $" (checkpoint `{info.Checkpoint}`)");
            if (info.NotStarted.Count > 0) md.Append("> - Not started: ").AppendLine(string.Join(", ", info.NotStarted.Select(t => $"`{t}`")));
            md.Append("> - Resume: `").Append(info.Resume).AppendLine("`");
        }
        md.AppendLine();
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

    private static string Mebibytes(long bytes) => (bytes / (1024.0 * 1024)).ToString("N0", Invariant) + " MiB";

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
        if (results.PeakWorkingSetBytes is long peak) md.Append("- Peak resident memory of the run: ").AppendLine(Mebibytes(peak));
        md.Append("- MnistExperiments version: ").AppendLine(results.Version);
        md.AppendLine();
    }

    private static void AppendModel(StringBuilder md, ModelResult model, IReadOnlyList<ReportFigure> figures)
    {
        md.Append("### ").AppendLine(model.Trainer).AppendLine();
        md.Append("Engine: ").Append(model.Engine).Append(". Fit ").Append(Seconds(model.FitSeconds)).Append("; predicting ")
          .Append(model.PredictCount.ToString(Invariant)).Append(' ').Append(model.PredictSet.Name()).Append(" images took ")
          .Append(Seconds(model.PredictSeconds)).Append('.');
        if (model.PeakWorkingSetBytes is long peak) md.Append(" Peak resident memory from its fit to its evaluation: ").Append(Mebibytes(peak)).Append('.');
        md.AppendLine().AppendLine();

        md.AppendLine("#### Hyperparameters").AppendLine();
        if (model.Hyperparameters.Count == 0) md.AppendLine("None.");
        else
        {
            md.AppendLine("| Name | Value |").AppendLine("|---|---|");
            foreach (var (name, value) in model.Hyperparameters)
                md.Append("| ").Append(Cell(name)).Append(" | ").Append(Cell(FormatValue(value))).AppendLine(" |");
        }
        md.AppendLine();

        AppendMembers(md, model);
        AppendConfusionMatrix(md, model);
        AppendFigures(md, figures, ReportFigures.ConfusionKind, model.Trainer);
        AppendPerClass(md, model);
        if (figures.Any(f => f.Trainer == model.Trainer && f.Kind is ReportFigures.SamplesKind or ReportFigures.MisclassifiedKind))
        {
            md.Append("#### Digits (").Append(model.EvaluationSet.Name()).AppendLine(" set)").AppendLine();
            AppendFigures(md, figures, ReportFigures.SamplesKind, model.Trainer);
            AppendFigures(md, figures, ReportFigures.MisclassifiedKind, model.Trainer);
        }

        if (model.MostConfused.Count > 0)
        {
            md.Append("#### Most confused (").Append(model.EvaluationSet.Name()).AppendLine(" set)").AppendLine();
            foreach (var pair in model.MostConfused)
                md.Append("- true ").Append(pair.True.ToString(Invariant)).Append(" predicted as ")
                  .Append(pair.Predicted.ToString(Invariant)).Append(": ").Append(pair.Count.ToString(Invariant)).AppendLine();
            md.AppendLine();
            AppendFigures(md, figures, ReportFigures.ConfusedPairsKind, model.Trainer);
            AppendFigures(md, figures, ReportFigures.ConfusedExamplesKind, model.Trainer);
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
            AppendFigures(md, figures, ReportFigures.LossCurveKind, model.Trainer);
            AppendFigures(md, figures, ReportFigures.AccuracyCurveKind, model.Trainer);
        }
    }

    /// <summary>A combined model's members, each one's accuracy beside the combination's.</summary>
    private static void AppendMembers(StringBuilder md, ModelResult model)
    {
        if (model.Members is not { Count: > 0 } members) return;
        md.AppendLine("#### Members").AppendLine();
        md.AppendLine("| Member | Trainer | Engine | Validation acc | Test acc | Hyperparameters |").AppendLine("|---:|---|---|---:|---:|---|");
        foreach (var m in members)
            md.Append("| ").Append(m.Index.ToString(Invariant)).Append(" | ").Append(Cell(m.Trainer)).Append(" | ").Append(Cell(m.Engine))
              .Append(" | ").Append(Percent(m.ValidationAccuracy)).Append(" | ").Append(Percent(m.TestAccuracy))
              .Append(" | ").Append(Cell(string.Join(", ", m.Hyperparameters.Select(h => $"{h.Key}={FormatValue(h.Value)}")))).AppendLine(" |");
        md.Append("| **all** | **").Append(Cell(model.Trainer)).Append("** | ").Append(Cell(model.Engine))
          .Append(" | **").Append(Percent(model.ValidationAccuracy)).Append("** | **").Append(Percent(model.TestAccuracy)).AppendLine("** | |");
        md.AppendLine();
    }

    private static void AppendConfusionMatrix(StringBuilder md, ModelResult model)
    {
        int[][] matrix = model.ConfusionMatrix;
        int total = matrix.Sum(row => row.Sum());
        md.Append("#### Confusion matrix (").Append(model.EvaluationSet.Name()).Append(" set, ").Append(total.ToString(Invariant))
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
        md.Append("#### Per class (").Append(model.EvaluationSet.Name()).AppendLine(" set)").AppendLine();
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

    public static string FormatValue(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("R", Invariant),
        float f => f.ToString("R", Invariant),
        bool b => b ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, Invariant),
        _ => value.ToString() ?? "",
    };
}
