using System.Globalization;

namespace Mnist.Core.Reporting.Charts;

/// <summary>Colours, fonts and axis arithmetic shared by the chart renderers.</summary>
public static class ChartStyle
{
    /// <summary>A colour-blind-friendly categorical palette (Okabe–Ito, without black).</summary>
    public static readonly IReadOnlyList<string> Palette =
        ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"];

    public const string Text = "#222222";
    public const string MutedText = "#666666";
    public const string Grid = "#e3e3e3";
    public const string Axis = "#888888";
    public const string Highlight = "#d62728";
    public const string Correct = "#2b7a2b";

    /// <summary>The <paramref name="index"/>-th palette colour, cycling.</summary>
    public static string Color(int index) => Palette[((index % Palette.Count) + Palette.Count) % Palette.Count];

    /// <summary>A rough text width in pixels for the chart font (about 0.6 em per character).</summary>
    public static double TextWidth(string text, double size) => text.Length * size * 0.6;

    /// <summary>
    /// "Nice" tick values covering [<paramref name="min"/>, <paramref name="max"/>]: steps of 1, 2 or 5 × 10^k,
    /// about <paramref name="targetTicks"/> of them; the first and last tick enclose the range.
    /// </summary>
    public static double[] NiceTicks(double min, double max, int targetTicks = 5)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) (min, max) = (0, 1);
        if (max < min) (min, max) = (max, min);
        if (max - min < 1e-12)
        {
            double pad = Math.Abs(min) > 1e-12 ? Math.Abs(min) * 0.1 : 1;
            (min, max) = (min - pad, max + pad);
        }
        double rawStep = (max - min) / Math.Max(1, targetTicks);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rawStep)));
        double residual = rawStep / magnitude;
        double step = (residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10) * magnitude;
        double first = Math.Floor(min / step + 1e-9) * step;
        double last = Math.Ceiling(max / step - 1e-9) * step;
        int count = (int)Math.Round((last - first) / step) + 1;
        var ticks = new double[count];
        for (int i = 0; i < count; i++) ticks[i] = Math.Round(first + i * step, 12);
        return ticks;
    }

    /// <summary>A tick label with no more decimals than the tick step needs.</summary>
    public static string TickLabel(double value, double step)
    {
        int decimals = step >= 1 ? 0 : Math.Min(10, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));
        return value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>A white-to-blue ramp for heatmaps: <paramref name="t"/> in [0,1] (clamped).</summary>
    public static string Sequential(double t)
    {
        t = double.IsFinite(t) ? Math.Clamp(t, 0, 1) : 0;
        // From #f7fbff to #08306b (ColorBrewer Blues ends).
        int r = (int)Math.Round(0xf7 + (0x08 - 0xf7) * t);
        int g = (int)Math.Round(0xfb + (0x30 - 0xfb) * t);
        int b = (int)Math.Round(0xff + (0x6b - 0xff) * t);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    /// <summary>Black or white, whichever reads better on <see cref="Sequential"/>(<paramref name="t"/>).</summary>
    public static string TextOn(double t) => t > 0.55 ? "#ffffff" : Text;
}
