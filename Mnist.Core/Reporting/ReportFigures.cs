using System.Globalization;
using System.Text;
using Mnist.Core.Data;
using Mnist.Core.IO;
using Mnist.Core.Reporting.Charts;

namespace Mnist.Core.Reporting;

/// <summary>
/// One model's predictions, for the digit pictures: on its labelled evaluation set (the set its
/// confusion matrix comes from) and, optionally, on an unlabelled set such as Kaggle's test.csv.
/// </summary>
public sealed record ModelPredictions(string Trainer, DataSplit EvaluationSet, DigitDataView EvaluationImages, int[] EvaluationPredicted)
{
    /// <summary>Unlabelled images (such as Kaggle's test set) to draw with their predictions.</summary>
    public DigitDataView? UnlabelledImages { get; init; }
    /// <summary>The predicted class of each of <see cref="UnlabelledImages"/>.</summary>
    public int[]? UnlabelledPredicted { get; init; }
}

/// <summary>
/// Draws the pictures of a report (ScottPlot charts and SkiaSharp digit grids, see Reporting/Charts) and writes them as SVG files beside report.md:
/// accuracy per model, cross-validation and grid-search scores, and per model the learning curves, the
/// confusion-matrix heatmap, a grid of evaluation digits (misclassified ones framed in red), a grid of the
/// misclassified ones and the most-confused class pairs with examples.
/// </summary>
internal static class ReportFigures
{
    public const string AccuracyKind = "accuracy";
    public const string CrossValidationKind = "cross-validation";
    public const string GridSearchKind = "grid-search";
    public const string LossCurveKind = "learning-loss";
    public const string AccuracyCurveKind = "learning-accuracy";
    public const string ConfusionKind = "confusion";
    public const string SamplesKind = "samples";
    public const string MisclassifiedKind = "misclassified";
    public const string ConfusedPairsKind = "confused-pairs";
    public const string ConfusedExamplesKind = "confused-examples";
    public const string UnlabelledKind = "unlabelled-predictions";

    /// <summary>How many digits the sample and misclassified grids show at most.</summary>
    public const int GridSize = 100;
    /// <summary>How many examples each most-confused pair shows at most.</summary>
    public const int ExamplesPerPair = 8;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Writes every picture that applies into <paramref name="folder"/> and returns them, in report order.</summary>
    public static IReadOnlyList<ReportFigure> Write(string folder, ExperimentResults results, IReadOnlyList<ModelPredictions>? predictions = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        var figures = new List<ReportFigure>();
        var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        void Save(string svg, string kind, string caption, string? trainer)
        {
            string name = UniqueName(usedNames, trainer is null ? kind : $"{kind}-{Slug(trainer)}");
            AtomicFile.WriteAllText(Path.Combine(folder, name), svg);
            figures.Add(new ReportFigure(name, caption, kind, trainer));
        }

        if (results.Models.Count > 0 && AccuracyChart(results) is var (chart, caption)) Save(chart, AccuracyKind, caption, null);
        if (results.CrossValidation is { Trainers.Count: > 0 } cv) Save(CrossValidationChart(cv), CrossValidationKind, $"Cross-validation accuracy, mean ± standard deviation over {cv.Folds} folds", null);
        if (results.GridSearch is { Candidates.Count: > 0 } grid) Save(GridChart(grid), GridSearchKind, $"Grid search: {grid.Trainer} validation accuracy per combination", null);

        foreach (var model in results.Models)
        {
            if (model.History is { Count: > 0 } history)
            {
                Save(LossCurves(model.Trainer, history), LossCurveKind, $"{model.Trainer}: loss per epoch", model.Trainer);
                if (history.Any(e => e.TrainAccuracy is not null || e.ValidationAccuracy is not null))
                    Save(AccuracyCurves(model.Trainer, history), AccuracyCurveKind, $"{model.Trainer}: accuracy per epoch", model.Trainer);
            }
            Save(ConfusionHeatmap(model), ConfusionKind, $"{model.Trainer}: confusion matrix ({model.EvaluationSet.Name()} set)", model.Trainer);

            var prediction = predictions?.FirstOrDefault(p => string.Equals(p.Trainer, model.Trainer, StringComparison.Ordinal));
            if (prediction is not null && prediction.EvaluationImages.HasLabels)
            {
                string set = prediction.EvaluationSet.Name();
                Save(SampleGrid(prediction), SamplesKind, $"{model.Trainer}: the first {Math.Min(GridSize, prediction.EvaluationImages.Count)} {set} digits, predicted/true (misclassified framed in red)", model.Trainer);
                Save(MisclassifiedGrid(prediction), MisclassifiedKind, $"{model.Trainer}: misclassified {set} digits, predicted/true", model.Trainer);
            }
            if (model.MostConfused.Count > 0)
            {
                Save(ConfusedPairsChart(model), ConfusedPairsKind, $"{model.Trainer}: most-confused class pairs ({model.EvaluationSet.Name()} set)", model.Trainer);
                if (prediction is not null && prediction.EvaluationImages.HasLabels)
                    Save(ConfusedExamples(model, prediction), ConfusedExamplesKind, $"{model.Trainer}: examples of the most-confused pairs", model.Trainer);
            }
            if (prediction is { UnlabelledImages: { } unlabelled, UnlabelledPredicted: { } predicted })
                Save(UnlabelledGrid(model.Trainer, unlabelled, predicted), UnlabelledKind, $"{model.Trainer}: the first {Math.Min(GridSize, unlabelled.Count)} unlabelled test digits with their predicted labels", model.Trainer);
        }
        return figures;
    }

    /// <summary>A file-name-safe form of a trainer name: lower-case letters, digits, '.', '-' and '_'.</summary>
    public static string Slug(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (char c in name.ToLowerInvariant())
            builder.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' ? c : '-');
        string slug = builder.ToString().Trim('.');
        return slug.Length == 0 ? "model" : slug;
    }

    private static string UniqueName(HashSet<string> used, string stem)
    {
        string name = stem + ".svg";
        for (int i = 2; !used.Add(name); i++) name = $"{stem}-{i}.svg";
        return name;
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("0.00", Invariant) + "%";

    private static (string Chart, string Caption)? AccuracyChart(ExperimentResults results)
    {
        // One set for every bar: test when any model has test accuracy, else validation, else train.
        var split = results.Models.Any(m => m.TestAccuracy is not null) ? DataSplit.Test
            : results.Models.Any(m => m.ValidationAccuracy is not null) ? DataSplit.Validation
            : DataSplit.Train;
        double? Accuracy(ModelResult m) => split switch
        {
            DataSplit.Test => m.TestAccuracy,
            DataSplit.Validation => m.ValidationAccuracy,
            _ => m.TrainAccuracy,
        };
        string set = split.Name();
        var bars = results.Models.Select((m, i) => Accuracy(m) is double a
            ? new Bar(m.Trainer, a * 100, ValueText: Percent(a), Color: ChartStyle.Color(i))
            : new Bar(m.Trainer, double.NaN, ValueText: "n/a")).ToList();
        var chart = BarChart.Render(bars, new BarChartOptions
        {
            Title = $"{Capitalized(set)} accuracy per model",
            ValueAxisTitle = $"{set} accuracy (%)",
            Min = 0,
            Max = 100,
        });
        return (chart, $"{Capitalized(set)} accuracy per model");
    }

    private static string CrossValidationChart(CrossValidationResult cv)
    {
        var bars = cv.Trainers.Select((t, i) => new Bar(t.Trainer, t.MeanAccuracy * 100, t.StandardDeviation * 100,
            $"{Percent(t.MeanAccuracy)} ± {(t.StandardDeviation * 100).ToString("0.00", Invariant)}", ChartStyle.Color(i))).ToList();
        return BarChart.Render(bars, new BarChartOptions
        {
            Title = $"{cv.Folds}-fold cross-validation accuracy",
            ValueAxisTitle = "validation accuracy (%), mean ± sample standard deviation",
            Min = 0,
            Max = 100,
        });
    }

    /// <summary>The top 30 combinations, best first, labelled with the grid's hyperparameters.</summary>
    private static string GridChart(GridSearchResult grid)
    {
        var bars = grid.Candidates.Take(30).Select(c => new Bar(
            $"#{c.Rank} " + string.Join(", ", c.Parameters.Select(p => $"{p.Key}={MarkdownReportWriter.FormatValue(p.Value)}")),
            c.Score * 100, c.StandardDeviation is double sd ? sd * 100 : null,
            Percent(c.Score) + (c.StandardDeviation is double s ? $" ± {(s * 100).ToString("0.00", Invariant)}" : ""),
            c.Rank == 1 ? ChartStyle.Color(2) : ChartStyle.Color(0))).ToList();
        return BarChart.Render(bars, new BarChartOptions
        {
            Title = $"Grid search: {grid.Trainer} ({(grid.Method == "k-fold" ? $"{grid.Folds}-fold" : "holdout")})",
            ValueAxisTitle = grid.Method == "k-fold" ? "mean fold accuracy (%)" : "validation accuracy (%)",
            Min = 0,
            Max = 100,
            Width = 760,
        });
    }

    private static string LossCurves(string trainer, IReadOnlyList<Training.EpochRecord> history)
    {
        var series = new List<Series> { new("train loss", history.Select(e => ((double)e.Epoch, e.TrainLoss)).ToList(), ChartStyle.Color(0)) };
        if (history.Any(e => e.ValidationLoss is not null))
            series.Add(new Series("validation loss", history.Select(e => ((double)e.Epoch, e.ValidationLoss ?? double.NaN)).ToList(), ChartStyle.Color(1), Dashed: true));
        return LineChart.Render(series, new LineChartOptions { Title = $"{trainer}: loss", XAxisTitle = "epoch", YAxisTitle = "loss" });
    }

    private static string AccuracyCurves(string trainer, IReadOnlyList<Training.EpochRecord> history)
    {
        var series = new List<Series>();
        if (history.Any(e => e.TrainAccuracy is not null))
            series.Add(new Series("train accuracy", history.Select(e => ((double)e.Epoch, e.TrainAccuracy is double a ? a * 100 : double.NaN)).ToList(), ChartStyle.Color(0)));
        if (history.Any(e => e.ValidationAccuracy is not null))
            series.Add(new Series("validation accuracy", history.Select(e => ((double)e.Epoch, e.ValidationAccuracy is double a ? a * 100 : double.NaN)).ToList(), ChartStyle.Color(1), Dashed: true));
        return LineChart.Render(series, new LineChartOptions { Title = $"{trainer}: accuracy", XAxisTitle = "epoch", YAxisTitle = "accuracy (%)" });
    }

    /// <summary>Counts in the cells; colour by the share of the true class's row (square root, so small confusions show).</summary>
    private static string ConfusionHeatmap(ModelResult model)
    {
        int[][] matrix = model.ConfusionMatrix;
        var intensity = matrix.Select(row =>
        {
            double total = row.Sum();
            return (IReadOnlyList<double>)row.Select(c => total == 0 ? 0 : Math.Sqrt(c / total)).ToList();
        }).ToList();
        var text = matrix.Select(row => (IReadOnlyList<string>)row.Select(c => c.ToString(Invariant)).ToList()).ToList();
        var labels = Enumerable.Range(0, matrix.Length).Select(i => i.ToString(Invariant)).ToList();
        return Heatmap.Render(intensity, text, new HeatmapOptions
        {
            Title = $"{model.Trainer}: confusion matrix ({model.EvaluationSet.Name()} set)",
            RowAxisTitle = "true class",
            ColumnAxisTitle = "predicted class",
            RowLabels = labels,
            ColumnLabels = labels,
        });
    }

    private static DigitTile Tile(DigitDataView images, int index, int predicted)
    {
        int truth = images.GetLabel(index);
        bool wrong = truth != predicted;
        return new DigitTile(images.GetImage(index).ToArray(), images.Height, images.Width, $"{predicted}/{truth}", wrong);
    }

    private static string SampleGrid(ModelPredictions p)
    {
        int count = Math.Min(GridSize, p.EvaluationImages.Count);
        var tiles = Enumerable.Range(0, count).Select(i => (DigitTile?)Tile(p.EvaluationImages, i, p.EvaluationPredicted[i])).ToList();
        int wrong = tiles.Count(t => t!.Highlight);
        return DigitGrid.Render(tiles, new DigitGridOptions
        {
            Title = $"{p.Trainer}: the first {count} {p.EvaluationSet.Name()} digits ({wrong} misclassified)",
            Subtitle = "caption: predicted/true; misclassified digits are framed in red",
        });
    }

    private static string MisclassifiedGrid(ModelPredictions p)
    {
        var wrong = Enumerable.Range(0, p.EvaluationImages.Count).Where(i => p.EvaluationPredicted[i] != p.EvaluationImages.GetLabel(i)).ToList();
        var tiles = wrong.Take(GridSize).Select(i => (DigitTile?)Tile(p.EvaluationImages, i, p.EvaluationPredicted[i])).ToList();
        return DigitGrid.Render(tiles, new DigitGridOptions
        {
            Title = $"{p.Trainer}: misclassified {p.EvaluationSet.Name()} digits ({wrong.Count} of {p.EvaluationImages.Count}{(wrong.Count > GridSize ? $", first {GridSize} shown" : "")})",
            Subtitle = "caption: predicted/true",
            EmptyText = "No misclassified digits.",
        });
    }

    private static string ConfusedPairsChart(ModelResult model)
    {
        var bars = model.MostConfused.Select(p => new Bar($"true {p.True} → predicted {p.Predicted}", p.Count,
            ValueText: p.Count.ToString(Invariant), Color: ChartStyle.Highlight)).ToList();
        return BarChart.Render(bars, new BarChartOptions
        {
            Title = $"{model.Trainer}: most-confused pairs ({model.EvaluationSet.Name()} set)",
            ValueAxisTitle = "images",
            Min = 0,
        });
    }

    /// <summary>One row per most-confused pair: up to <see cref="ExamplesPerPair"/> of its images.</summary>
    private static string ConfusedExamples(ModelResult model, ModelPredictions p)
    {
        var tiles = new List<DigitTile?>();
        foreach (var pair in model.MostConfused)
        {
            var examples = Enumerable.Range(0, p.EvaluationImages.Count)
                .Where(i => p.EvaluationImages.GetLabel(i) == pair.True && p.EvaluationPredicted[i] == pair.Predicted)
                .Take(ExamplesPerPair).ToList();
            foreach (int i in examples) tiles.Add(Tile(p.EvaluationImages, i, pair.Predicted));
            for (int pad = examples.Count; pad < ExamplesPerPair; pad++) tiles.Add(null);
        }
        return DigitGrid.Render(tiles, new DigitGridOptions
        {
            Title = $"{model.Trainer}: examples of the most-confused pairs",
            Subtitle = "one row per pair, as in the chart above; caption: predicted/true",
            Columns = ExamplesPerPair,
        });
    }

    private static string UnlabelledGrid(string trainer, DigitDataView images, int[] predicted)
    {
        int count = Math.Min(GridSize, images.Count);
        var tiles = Enumerable.Range(0, count).Select(i => (DigitTile?)new DigitTile(images.GetImage(i).ToArray(), images.Height, images.Width,
            predicted[i].ToString(Invariant))).ToList();
        return DigitGrid.Render(tiles, new DigitGridOptions
        {
            Title = $"{trainer}: the first {count} unlabelled test digits",
            Subtitle = "caption: predicted label",
        });
    }

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

}
