using ScottPlot;
using SkiaSharp;

namespace Mnist.Core.Reporting.Charts;

/// <summary>Colours, the font and SVG output shared by the chart renderers (ScottPlot, and SkiaSharp for digit grids).</summary>
internal static class ChartStyle
{
    /// <summary>A colour-blind-friendly categorical palette (Okabe–Ito, without black).</summary>
    public static readonly IReadOnlyList<string> Palette =
        ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"];

    public const string Text = "#222222";
    public const string MutedText = "#666666";
    public const string Highlight = "#D62728";

    /// <summary>The <paramref name="index"/>-th palette colour, cycling.</summary>
    public static string Color(int index) => Palette[((index % Palette.Count) + Palette.Count) % Palette.Count];

    /// <summary>A white-to-blue ramp for heatmaps: <paramref name="t"/> in [0,1] (clamped).</summary>
    public static string Sequential(double t)
    {
        t = double.IsFinite(t) ? Math.Clamp(t, 0, 1) : 0;
        // From #f7fbff to #08306b (ColorBrewer Blues ends).
        int r = (int)Math.Round(0xf7 + (0x08 - 0xf7) * t);
        int g = (int)Math.Round(0xfb + (0x30 - 0xfb) * t);
        int b = (int)Math.Round(0xff + (0x6b - 0xff) * t);
        return $"#{r:X2}{g:X2}{b:X2}";
    }

    /// <summary>Black or white, whichever reads better on <see cref="Sequential"/>(<paramref name="t"/>).</summary>
    public static string TextOn(double t) => t > 0.55 ? "#FFFFFF" : Text;

    /// <summary>A new plot in the house style: the report font, title and axis text in <see cref="Text"/>.</summary>
    public static Plot NewPlot(string? title)
    {
        var plot = new Plot();
        plot.Font.Set(ChartFont.Family);
        if (title is not null) plot.Title(title, size: 15);
        plot.Axes.Color(ScottPlot.Color.FromHex(Text));
        return plot;
    }

    /// <summary>The SVG text of <paramref name="plot"/> at the given size in pixels.</summary>
    public static string Svg(Plot plot, int width, int height) => StableIds(plot.GetSvgXml(width, height));

    /// <summary>Draws onto a fresh SVG canvas of the given size and returns the SVG text.</summary>
    public static string Svg(int width, int height, Action<SKCanvas> draw)
    {
        using var stream = new MemoryStream();
        using (var canvas = SKSvgCanvas.Create(SKRect.Create(width, height), stream)) draw(canvas);
        return StableIds(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>
    /// Skia's SVG canvas numbers clip paths from a process-wide counter ("cl_2418"), so the same picture drawn
    /// twice differs; renumbered in order of appearance, a picture depends only on its data (reproducible reports).
    /// </summary>
    internal static string StableIds(string svg)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        return System.Text.RegularExpressions.Regex.Replace(svg, @"\bcl_[0-9a-f]+\b", m =>
        {
            if (!ids.TryGetValue(m.Value, out var id)) ids[m.Value] = id = "cl_" + ids.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return id;
        });
    }
}

/// <summary>
/// The one font every picture uses. SkiaSharp's NoDependencies native build (no libfontconfig1) finds no system
/// fonts on Linux by itself, so a TrueType file is looked up in the usual font folders (DejaVu Sans, from Debian's
/// fonts-dejavu-core, first) and registered with ScottPlot; elsewhere the platform's default typeface is used.
/// </summary>
internal static class ChartFont
{
    private static readonly Lazy<(string Family, SKTypeface Regular, SKTypeface Bold)> Resolved = new(Resolve);

    public static string Family => Resolved.Value.Family;
    public static SKTypeface Regular => Resolved.Value.Regular;
    public static SKTypeface Bold => Resolved.Value.Bold;

    private static readonly string[] Preferred = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf"];

    private static (string, SKTypeface, SKTypeface) Resolve()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var files = new[] { "/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".local/share/fonts"), Path.Combine(home, ".fonts") }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.ttf", SearchOption.AllDirectories))
            .ToList();
        string? regular = Preferred.Select(name => files.FirstOrDefault(f => Path.GetFileName(f) == name)).FirstOrDefault(f => f is not null)
            ?? files.Order(StringComparer.Ordinal).FirstOrDefault();
        if (regular is not null && SKTypeface.FromFile(regular) is { } typeface)
        {
            // The bold face sits beside the regular one in every family above ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf").
            string stem = Path.GetFileNameWithoutExtension(regular).Replace("-Regular", "", StringComparison.Ordinal);
            string boldPath = Path.Combine(Path.GetDirectoryName(regular)!, stem + "-Bold.ttf");
            var bold = File.Exists(boldPath) ? SKTypeface.FromFile(boldPath) ?? typeface : typeface;
            string family = typeface.FamilyName;
            Fonts.AddFontFile(family, regular);
            if (bold != typeface) Fonts.AddFontFile(family, boldPath, bold: true);
            return (family, typeface, bold);
        }
        if (SKTypeface.Default.GlyphCount > 0)
            return (SKTypeface.Default.FamilyName, SKTypeface.Default, SKTypeface.FromFamilyName(SKTypeface.Default.FamilyName, SKFontStyle.Bold) ?? SKTypeface.Default);
        // An IOException, so the runner prints it as one "error:" line (before any picture is written).
        throw new FileNotFoundException(
            "No TrueType font was found for the report's pictures (searched /usr/share/fonts and ~/.fonts); on Debian install one with 'apt-get install fonts-dejavu-core'.");
    }
}
