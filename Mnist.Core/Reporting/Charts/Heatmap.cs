using ScottPlot;

namespace Mnist.Core.Reporting.Charts;

/// <summary>Titles and labels of a <see cref="Heatmap"/>.</summary>
internal sealed record HeatmapOptions
{
    public string? Title { get; init; }
    public string? RowAxisTitle { get; init; }
    public string? ColumnAxisTitle { get; init; }
    public IReadOnlyList<string>? RowLabels { get; init; }
    public IReadOnlyList<string>? ColumnLabels { get; init; }
    /// <summary>Pixels per cell side.</summary>
    public int CellSize { get; init; } = 40;
}

/// <summary>A matrix of square cells (first row on top) shaded by intensity in [0,1], each with its text.</summary>
internal static class Heatmap
{
    public static string Render(IReadOnlyList<IReadOnlyList<double>> intensity, IReadOnlyList<IReadOnlyList<string>>? text = null, HeatmapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(intensity);
        options ??= new HeatmapOptions();
        int rows = intensity.Count, columns = rows == 0 ? 0 : intensity[0].Count;
        if (intensity.Any(r => r.Count != columns)) throw new ArgumentException("Every heatmap row needs the same number of cells.", nameof(intensity));
        if (text is not null && (text.Count != rows || text.Any(r => r.Count != columns)))
            throw new ArgumentException("The cell texts must have the shape of the intensities.", nameof(text));

        var plot = ChartStyle.NewPlot(options.Title);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                double t = intensity[r][c], y = rows - 1 - r;
                var cell = plot.Add.Rectangle(c - 0.5, c + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = ScottPlot.Color.FromHex(ChartStyle.Sequential(t));
                cell.LineColor = ScottPlot.Color.FromHex("#FFFFFF");
                cell.LineWidth = 1;
                if (text is null) continue;
                var label = plot.Add.Text(text[r][c], c, y);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = 11;
                label.LabelFontColor = ScottPlot.Color.FromHex(ChartStyle.TextOn(t));
            }
        if (options.ColumnLabels is { } columnLabels)
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(c => (double)c).ToArray(), columnLabels.Take(columns).ToArray());
        if (options.RowLabels is { } rowLabels)
            plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(r => (double)(rows - 1 - r)).ToArray(), rowLabels.Take(rows).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        if (options.ColumnAxisTitle is not null) plot.XLabel(options.ColumnAxisTitle, 12);
        if (options.RowAxisTitle is not null) plot.YLabel(options.RowAxisTitle, 12);
        plot.HideGrid();
        plot.Axes.SetLimits(-0.5, Math.Max(columns, 1) - 0.5, -0.5, Math.Max(rows, 1) - 0.5);
        int side = Math.Max(1, columns) * options.CellSize;
        return ChartStyle.Svg(plot, side + 90, Math.Max(1, rows) * options.CellSize + 100);
    }
}
