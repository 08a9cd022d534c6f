namespace Mnist.Core.Reporting.Charts;

/// <summary>One bar: its label, value, an optional ± error (drawn as a whisker) and the text printed beside it.</summary>
public sealed record Bar(string Label, double Value, double? Error = null, string? ValueText = null, string? Color = null);

/// <summary>Layout and axis settings of a <see cref="BarChart"/>.</summary>
public sealed record BarChartOptions
{
    public string? Title { get; init; }
    /// <summary>The caption under the value axis, e.g. "test accuracy (%)".</summary>
    public string? ValueAxisTitle { get; init; }
    /// <summary>Axis start; default 0 (bars should start at zero unless told otherwise).</summary>
    public double? Min { get; init; }
    /// <summary>Axis end; default a nice number above the largest value (plus its error).</summary>
    public double? Max { get; init; }
    /// <summary>Formats a value for the tick labels; default the tick value itself.</summary>
    public Func<double, string>? TickFormat { get; init; }
    public double Width { get; init; } = 640;
    public double BarHeight { get; init; } = 22;
}

/// <summary>A horizontal bar chart: one labelled bar per row, the value printed at its end.</summary>
public static class BarChart
{
    public static SvgDocument Render(IReadOnlyList<Bar> bars, BarChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bars);
        options ??= new BarChartOptions();
        const double fontSize = 12, margin = 12, rowGap = 8;
        double titleHeight = options.Title is null ? 0 : 26;
        double labelWidth = Math.Clamp(bars.Count == 0 ? 40 : bars.Max(b => ChartStyle.TextWidth(b.Label, fontSize)) + 10, 40, options.Width * 0.4);
        double valueTextWidth = Math.Max(48, bars.Count == 0 ? 0 : bars.Max(b => ChartStyle.TextWidth(ValueText(b), fontSize)) + 8);
        double plotLeft = margin + labelWidth;
        double plotWidth = Math.Max(80, options.Width - plotLeft - valueTextWidth - margin);
        double plotTop = margin + titleHeight;
        double plotHeight = Math.Max(1, bars.Count) * (options.BarHeight + rowGap) + rowGap;
        double axisHeight = 22 + (options.ValueAxisTitle is null ? 0 : 18);
        double height = plotTop + plotHeight + axisHeight + margin;

        var finite = bars.Where(b => double.IsFinite(b.Value)).ToList();
        double dataMax = finite.Count == 0 ? 1 : finite.Max(b => b.Value + (b.Error is double e && double.IsFinite(e) ? Math.Abs(e) : 0));
        double dataMin = finite.Count == 0 ? 0 : finite.Min(b => b.Value);
        double[] ticks = ChartStyle.NiceTicks(options.Min ?? Math.Min(0, dataMin), options.Max ?? Math.Max(dataMax, (options.Min ?? 0) + 1e-9));
        double axisMin = options.Min ?? ticks[0];
        double axisMax = options.Max ?? ticks[^1];
        if (axisMax <= axisMin) axisMax = axisMin + 1;
        double X(double value) => plotLeft + (Math.Clamp(value, axisMin, axisMax) - axisMin) / (axisMax - axisMin) * plotWidth;

        var svg = new SvgDocument(options.Width, height, options.Title);
        if (options.Title is not null) svg.Text(options.Width / 2, margin + 14, options.Title, 15, TextAnchor.Middle, bold: true);

        double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
        foreach (double tick in ticks)
        {
            if (tick < axisMin - 1e-12 || tick > axisMax + 1e-12) continue;
            double x = X(tick);
            svg.Line(x, plotTop, x, plotTop + plotHeight, ChartStyle.Grid);
            svg.Text(x, plotTop + plotHeight + 15, options.TickFormat?.Invoke(tick) ?? ChartStyle.TickLabel(tick, step), 11, TextAnchor.Middle, ChartStyle.MutedText);
        }
        svg.Line(plotLeft, plotTop, plotLeft, plotTop + plotHeight, ChartStyle.Axis);
        svg.Line(plotLeft, plotTop + plotHeight, plotLeft + plotWidth, plotTop + plotHeight, ChartStyle.Axis);
        if (options.ValueAxisTitle is not null)
            svg.Text(plotLeft + plotWidth / 2, plotTop + plotHeight + 34, options.ValueAxisTitle, 12, TextAnchor.Middle, ChartStyle.MutedText);

        for (int i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            double y = plotTop + rowGap + i * (options.BarHeight + rowGap);
            double centre = y + options.BarHeight / 2;
            svg.Text(plotLeft - 6, centre + 4, Fit(bar.Label, labelWidth - 10, fontSize), fontSize, TextAnchor.End);
            string text = ValueText(bar);
            if (!double.IsFinite(bar.Value))
            {
                svg.Text(plotLeft + 4, centre + 4, text, fontSize, fill: ChartStyle.MutedText);
                continue;
            }
            double x0 = X(Math.Max(axisMin, Math.Min(0, axisMax))), x1 = X(bar.Value);
            svg.Rect(Math.Min(x0, x1), y, Math.Abs(x1 - x0), options.BarHeight, bar.Color ?? ChartStyle.Color(0), tooltip: $"{bar.Label}: {text}");
            double end = x1;
            if (bar.Error is double error && double.IsFinite(error) && error > 0)
            {
                double lo = X(bar.Value - error), hi = X(bar.Value + error);
                svg.Line(lo, centre, hi, centre, ChartStyle.Text, 1.5);
                svg.Line(lo, centre - 5, lo, centre + 5, ChartStyle.Text, 1.5);
                svg.Line(hi, centre - 5, hi, centre + 5, ChartStyle.Text, 1.5);
                end = Math.Max(end, hi);
            }
            svg.Text(end + 5, centre + 4, text, fontSize);
        }
        return svg;
    }

    /// <summary>The label, cut with an ellipsis when it is wider than <paramref name="width"/> (the bar's tooltip keeps it whole).</summary>
    private static string Fit(string label, double width, double size)
    {
        if (ChartStyle.TextWidth(label, size) <= width) return label;
        int characters = Math.Max(1, (int)(width / (size * 0.6)) - 1);
        return label[..Math.Min(label.Length, characters)] + "…";
    }

    private static string ValueText(Bar bar) =>
        bar.ValueText ?? (double.IsFinite(bar.Value) ? bar.Value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "n/a");
}
