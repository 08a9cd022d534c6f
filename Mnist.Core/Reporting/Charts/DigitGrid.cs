using SkiaSharp;

namespace Mnist.Core.Reporting.Charts;

/// <summary>
/// One digit of a <see cref="DigitGrid"/>: its ink intensities in [0,1] (row-major), a caption under it
/// and whether to highlight it (a red frame and red caption, e.g. for a misclassified image).
/// </summary>
internal sealed record DigitTile(float[] Pixels, int Height, int Width, string Caption, bool Highlight = false);

/// <summary>Layout settings of a <see cref="DigitGrid"/>.</summary>
internal sealed record DigitGridOptions
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

/// <summary>
/// A grid of digit images drawn with SkiaSharp onto an SVG canvas: each digit an embedded greyscale PNG
/// (already scaled up, so viewers show crisp pixels) with its caption; highlighted tiles get a red frame.
/// </summary>
internal static class DigitGrid
{
    private const int Margin = 12, Gap = 8, CaptionHeight = 16;

    /// <param name="tiles">The digits in reading order; a null entry leaves its slot empty (to start a new row, say).</param>
    /// <param name="options">Title and layout.</param>
    public static string Render(IReadOnlyList<DigitTile?> tiles, DigitGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        options ??= new DigitGridOptions();
        if (options.Columns < 1) throw new ArgumentOutOfRangeException(nameof(options), "A digit grid needs at least one column.");
        if (options.Scale < 1) throw new ArgumentOutOfRangeException(nameof(options), "The scale must be at least 1.");
        foreach (var tile in tiles)
            if (tile is not null && tile.Pixels.Length != tile.Height * tile.Width)
                throw new ArgumentException($"A {tile.Height}×{tile.Width} tile has {tile.Pixels.Length} pixels.", nameof(tiles));

        using var titleFont = new SKFont(ChartFont.Bold, 15);
        using var subtitleFont = new SKFont(ChartFont.Regular, 11);
        using var captionFont = new SKFont(ChartFont.Regular, 11);
        using var boldCaptionFont = new SKFont(ChartFont.Bold, 11);

        var present = tiles.OfType<DigitTile>().ToList();
        int tileWidth = (present.Count == 0 ? 28 : present.Max(t => t.Width)) * options.Scale;
        int tileHeight = (present.Count == 0 ? 28 : present.Max(t => t.Height)) * options.Scale;
        int columns = Math.Max(1, Math.Min(options.Columns, tiles.Count));
        int rows = tiles.Count == 0 ? 1 : (tiles.Count + columns - 1) / columns;
        int cellWidth = Math.Max(tileWidth, 40) + Gap, cellHeight = tileHeight + CaptionHeight + Gap;
        int titleHeight = (options.Title is null ? 0 : 24) + (options.Subtitle is null ? 0 : 18);
        float textWidth = Math.Max(options.Title is null ? 0 : titleFont.MeasureText(options.Title), options.Subtitle is null ? 0 : subtitleFont.MeasureText(options.Subtitle));
        int width = (int)Math.Ceiling(Math.Max(2 * Margin + columns * cellWidth, textWidth + 2 * Margin));
        int height = Margin + titleHeight + (present.Count == 0 ? 30 : rows * cellHeight) + Margin;

        return ChartStyle.Svg(width, height, canvas =>
        {
            using var background = new SKPaint { Color = SKColors.White };
            canvas.DrawRect(0, 0, width, height, background);
            using var text = new SKPaint { Color = SKColor.Parse(ChartStyle.Text), IsAntialias = true };
            using var muted = new SKPaint { Color = SKColor.Parse(ChartStyle.MutedText), IsAntialias = true };
            using var red = new SKPaint { Color = SKColor.Parse(ChartStyle.Highlight), IsAntialias = true };
            using var redFrame = new SKPaint { Color = SKColor.Parse(ChartStyle.Highlight), IsStroke = true, StrokeWidth = 2.5f };
            using var greyFrame = new SKPaint { Color = SKColor.Parse("#CCCCCC"), IsStroke = true, StrokeWidth = 1 };

            if (options.Title is not null) canvas.DrawText(options.Title, Margin, Margin + 14, SKTextAlign.Left, titleFont, text);
            if (options.Subtitle is not null) canvas.DrawText(options.Subtitle, Margin, Margin + (options.Title is null ? 12 : 32), SKTextAlign.Left, subtitleFont, muted);
            if (present.Count == 0)
            {
                canvas.DrawText(options.EmptyText, Margin, Margin + titleHeight + 20, SKTextAlign.Left, captionFont, muted);
                return;
            }
            for (int i = 0; i < tiles.Count; i++)
            {
                if (tiles[i] is not { } tile) continue;
                float x = Margin + (i % columns) * cellWidth + (cellWidth - Gap - tileWidth) / 2f;
                float y = Margin + titleHeight + (i / columns) * cellHeight;
                int w = tile.Width * options.Scale, h = tile.Height * options.Scale;
                using (var image = Digit(tile, options.Scale)) canvas.DrawImage(image, x, y, new SKSamplingOptions(SKFilterMode.Nearest), null);
                if (tile.Highlight) canvas.DrawRect(x - 1.5f, y - 1.5f, w + 3, h + 3, redFrame);
                else canvas.DrawRect(x - 0.5f, y - 0.5f, w + 1, h + 1, greyFrame);
                canvas.DrawText(tile.Caption, x + w / 2f, y + tileHeight + 12, SKTextAlign.Center,
                    tile.Highlight ? boldCaptionFont : captionFont, tile.Highlight ? red : text);
            }
        });
    }

    /// <summary>Dark ink on white paper, each image pixel a <paramref name="scale"/>×<paramref name="scale"/> block.</summary>
    private static SKImage Digit(DigitTile tile, int scale)
    {
        int width = tile.Width * scale, height = tile.Height * scale;
        var gray = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                float ink = tile.Pixels[(y / scale) * tile.Width + x / scale];
                gray[y * width + x] = (byte)Math.Round(255 * (1 - (float.IsFinite(ink) ? Math.Clamp(ink, 0f, 1f) : 0f)));
            }
        return SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), gray);
    }
}
