namespace Mnist.Core.Reporting.Charts;

/// <summary>
/// One digit of a <see cref="DigitGrid"/>: its ink intensities in [0,1] (row-major), a caption under it
/// and whether to highlight it (a red frame and red caption, e.g. for a misclassified image).
/// </summary>
public sealed record DigitTile(float[] Pixels, int Height, int Width, string Caption, bool Highlight = false, string? Tooltip = null);

/// <summary>Layout settings of a <see cref="DigitGrid"/>.</summary>
public sealed record DigitGridOptions
{
    public string? Title { get; init; }
    /// <summary>A line under the title, e.g. the legend of the captions.</summary>
    public string? Subtitle { get; init; }
    public int Columns { get; init; } = 10;
    /// <summary>Screen pixels per image pixel.</summary>
    public int Scale { get; init; } = 2;
    /// <summary>Shown instead of the grid when there are no tiles.</summary>
    public string EmptyText { get; init; } = "(none)";
}

/// <summary>A grid of digit images, each an embedded greyscale PNG with a caption; highlighted tiles get a red frame.</summary>
public static class DigitGrid
{
    /// <param name="tiles">The digits in reading order; a null entry leaves its slot empty (to start a new row, say).</param>
    /// <param name="options">Title and layout.</param>
    public static SvgDocument Render(IReadOnlyList<DigitTile?> tiles, DigitGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        options ??= new DigitGridOptions();
        if (options.Columns < 1) throw new ArgumentOutOfRangeException(nameof(options), "A digit grid needs at least one column.");
        if (options.Scale < 1) throw new ArgumentOutOfRangeException(nameof(options), "The scale must be at least 1.");
        foreach (var tile in tiles)
            if (tile is not null && tile.Pixels.Length != tile.Height * tile.Width)
                throw new ArgumentException($"A {tile.Height}×{tile.Width} tile has {tile.Pixels.Length} pixels.", nameof(tiles));

        const double margin = 12, gap = 6, captionHeight = 15;
        double titleHeight = (options.Title is null ? 0 : 24) + (options.Subtitle is null ? 0 : 18);
        var present = tiles.OfType<DigitTile>().ToList();
        int imageWidth = present.Count == 0 ? 28 : present.Max(t => t.Width), imageHeight = present.Count == 0 ? 28 : present.Max(t => t.Height);
        double tileWidth = imageWidth * options.Scale, tileHeight = imageHeight * options.Scale;
        int columns = Math.Max(1, Math.Min(options.Columns, tiles.Count));
        int rows = tiles.Count == 0 ? 1 : (tiles.Count + columns - 1) / columns;
        double cellWidth = Math.Max(tileWidth, 40) + gap, cellHeight = tileHeight + captionHeight + gap;
        double width = Math.Max(2 * margin + columns * cellWidth, Math.Max(
            options.Title is null ? 0 : ChartStyle.TextWidth(options.Title, 14) + 2 * margin,
            options.Subtitle is null ? 0 : ChartStyle.TextWidth(options.Subtitle, 11) + 2 * margin));
        double height = margin + titleHeight + rows * cellHeight + margin;

        var svg = new SvgDocument(width, height, options.Title);
        if (options.Title is not null) svg.Text(margin, margin + 13, options.Title, 14, bold: true);
        if (options.Subtitle is not null) svg.Text(margin, margin + (options.Title is null ? 12 : 31), options.Subtitle, 11, fill: ChartStyle.MutedText);
        if (present.Count == 0)
        {
            svg.Text(margin, margin + titleHeight + 20, options.EmptyText, 12, fill: ChartStyle.MutedText);
            return svg;
        }

        for (int i = 0; i < tiles.Count; i++)
        {
            if (tiles[i] is not { } tile) continue;
            double x = margin + (i % columns) * cellWidth + (cellWidth - gap - tileWidth) / 2;
            double y = margin + titleHeight + (i / columns) * cellHeight;
            string uri = PngEncoder.DataUri(PngEncoder.Digit(tile.Width, tile.Height, tile.Pixels));
            svg.Image(x, y, tile.Width * options.Scale, tile.Height * options.Scale, uri, tooltip: tile.Tooltip ?? tile.Caption);
            if (tile.Highlight) svg.Rect(x - 1.5, y - 1.5, tile.Width * options.Scale + 3, tile.Height * options.Scale + 3, "none", ChartStyle.Highlight, 2.5);
            else svg.Rect(x - 0.5, y - 0.5, tile.Width * options.Scale + 1, tile.Height * options.Scale + 1, "none", "#cccccc", 1);
            svg.Text(x + tile.Width * options.Scale / 2.0, y + tileHeight + 12, tile.Caption, 11, TextAnchor.Middle,
                tile.Highlight ? ChartStyle.Highlight : ChartStyle.Text, bold: tile.Highlight);
        }
        return svg;
    }
}
