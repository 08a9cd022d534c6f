namespace Mnist.Core.Reporting.Charts;

/// <summary>Labels and sizes of a <see cref="Heatmap"/>.</summary>
public sealed record HeatmapOptions
{
    public string? Title { get; init; }
    /// <summary>Caption of the row axis (left), e.g. "true class".</summary>
    public string? RowAxisTitle { get; init; }
    /// <summary>Caption of the column axis (top), e.g. "predicted class".</summary>
    public string? ColumnAxisTitle { get; init; }
    public IReadOnlyList<string>? RowLabels { get; init; }
    public IReadOnlyList<string>? ColumnLabels { get; init; }
    public double CellSize { get; init; } = 38;
}

/// <summary>A matrix of coloured cells: intensity in [0,1] picks the colour, and each cell may carry a text.</summary>
public static class Heatmap
{
    /// <param name="intensity">Rows of values in [0,1] (clamped); all rows the same length.</param>
    /// <param name="cellText">Text per cell (same shape), or null for none.</param>
    /// <param name="options">Labels and sizes.</param>
    public static SvgDocument Render(IReadOnlyList<IReadOnlyList<double>> intensity, IReadOnlyList<IReadOnlyList<string>>? cellText = null, HeatmapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(intensity);
        options ??= new HeatmapOptions();
        int rows = intensity.Count;
        int columns = rows == 0 ? 0 : intensity[0].Count;
        if (intensity.Any(r => r.Count != columns)) throw new ArgumentException("Every heatmap row needs the same number of cells.", nameof(intensity));
        if (cellText is not null && (cellText.Count != rows || cellText.Any(r => r.Count != columns)))
            throw new ArgumentException("The cell texts must have the heatmap's shape.", nameof(cellText));
        if (options.RowLabels is { } rl && rl.Count != rows) throw new ArgumentException($"{rl.Count} row labels for {rows} rows.", nameof(options));
        if (options.ColumnLabels is { } cl && cl.Count != columns) throw new ArgumentException($"{cl.Count} column labels for {columns} columns.", nameof(options));

        const double margin = 12;
        double cell = options.CellSize;
        double titleHeight = options.Title is null ? 0 : 26;
        double rowLabelWidth = Math.Max(18, (options.RowLabels?.Select(l => ChartStyle.TextWidth(l, 12)).DefaultIfEmpty(0).Max() ?? 0) + 8);
        double left = margin + (options.RowAxisTitle is null ? 0 : 20) + rowLabelWidth;
        double top = margin + titleHeight + (options.ColumnAxisTitle is null ? 0 : 18) + 18;
        double width = Math.Max(left + columns * cell + margin, options.Title is null ? 0 : ChartStyle.TextWidth(options.Title, 15) + 2 * margin);
        double height = top + rows * cell + margin;

        var svg = new SvgDocument(width, height, options.Title);
        if (options.Title is not null) svg.Text(width / 2, margin + 14, options.Title, 15, TextAnchor.Middle, bold: true);
        if (options.ColumnAxisTitle is not null)
            svg.Text(left + columns * cell / 2, margin + titleHeight + 12, options.ColumnAxisTitle, 12, TextAnchor.Middle, ChartStyle.MutedText);
        if (options.RowAxisTitle is not null)
            svg.Text(margin + 12, top + rows * cell / 2, options.RowAxisTitle, 12, TextAnchor.Middle, ChartStyle.MutedText, rotate: -90);

        double fontSize = Math.Clamp(cell * 0.32, 8, 13);
        for (int c = 0; c < columns; c++)
            if (options.ColumnLabels is { } labels)
                svg.Text(left + (c + 0.5) * cell, top - 6, labels[c], 12, TextAnchor.Middle, bold: true);
        for (int r = 0; r < rows; r++)
        {
            if (options.RowLabels is { } labels)
                svg.Text(left - 6, top + (r + 0.5) * cell + 4, labels[r], 12, TextAnchor.End, bold: true);
            for (int c = 0; c < columns; c++)
            {
                double t = intensity[r][c];
                string? text = cellText?[r][c];
                string tooltip = (options.RowLabels is null ? $"row {r}" : options.RowLabels[r]) + " / "
                    + (options.ColumnLabels is null ? $"column {c}" : options.ColumnLabels[c]) + (string.IsNullOrEmpty(text) ? "" : ": " + text);
                svg.Rect(left + c * cell, top + r * cell, cell, cell, ChartStyle.Sequential(t), "#ffffff", 1, tooltip);
                if (!string.IsNullOrEmpty(text))
                    svg.Text(left + (c + 0.5) * cell, top + (r + 0.5) * cell + fontSize * 0.35, text, fontSize, TextAnchor.Middle, ChartStyle.TextOn(t));
            }
        }
        return svg;
    }
}
