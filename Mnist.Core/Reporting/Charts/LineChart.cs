namespace Mnist.Core.Reporting.Charts;

/// <summary>One line of a <see cref="LineChart"/>; non-finite points break the line.</summary>
public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points, string? Color = null, bool Dashed = false);

/// <summary>Layout and axis settings of a <see cref="LineChart"/>.</summary>
public sealed record LineChartOptions
{
    public string? Title { get; init; }
    public string? XAxisTitle { get; init; }
    public string? YAxisTitle { get; init; }
    public double? YMin { get; init; }
    public double? YMax { get; init; }
    /// <summary>Formats a y tick; default the tick value itself.</summary>
    public Func<double, string>? YTickFormat { get; init; }
    /// <summary>True when x values are whole numbers (epochs): ticks are then integers.</summary>
    public bool IntegerX { get; init; } = true;
    public double Width { get; init; } = 560;
    public double Height { get; init; } = 340;
}

/// <summary>A line chart of one or more series over a shared x axis, with markers and a legend.</summary>
public static class LineChart
{
    public static SvgDocument Render(IReadOnlyList<Series> series, LineChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        options ??= new LineChartOptions();
        const double margin = 12;
        double titleHeight = options.Title is null ? 0 : 26;
        double legendHeight = series.Count == 0 ? 0 : 20;
        double plotLeft = margin + 48 + (options.YAxisTitle is null ? 0 : 18);
        double plotTop = margin + titleHeight + legendHeight;
        double plotRight = options.Width - margin - 10;
        double plotBottom = options.Height - margin - 22 - (options.XAxisTitle is null ? 0 : 18);
        if (plotRight - plotLeft < 40 || plotBottom - plotTop < 40)
            throw new ArgumentException("The chart is too small for its axes.", nameof(options));

        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        double xMin = points.Count == 0 ? 0 : points.Min(p => p.X), xMax = points.Count == 0 ? 1 : points.Max(p => p.X);
        if (xMax - xMin < 1e-12) (xMin, xMax) = (xMin - (options.IntegerX ? 1 : 0.5), xMax + (options.IntegerX ? 1 : 0.5));
        double[] yTicks = ChartStyle.NiceTicks(options.YMin ?? (points.Count == 0 ? 0 : points.Min(p => p.Y)), options.YMax ?? (points.Count == 0 ? 1 : points.Max(p => p.Y)));
        double yMin = options.YMin ?? yTicks[0], yMax = options.YMax ?? yTicks[^1];
        if (yMax <= yMin) yMax = yMin + 1;
        double X(double x) => plotLeft + (x - xMin) / (xMax - xMin) * (plotRight - plotLeft);
        double Y(double y) => plotBottom - (Math.Clamp(y, yMin, yMax) - yMin) / (yMax - yMin) * (plotBottom - plotTop);

        var svg = new SvgDocument(options.Width, options.Height, options.Title);
        if (options.Title is not null) svg.Text(options.Width / 2, margin + 14, options.Title, 15, TextAnchor.Middle, bold: true);

        double yStep = yTicks.Length > 1 ? yTicks[1] - yTicks[0] : 1;
        foreach (double tick in yTicks)
        {
            if (tick < yMin - 1e-12 || tick > yMax + 1e-12) continue;
            svg.Line(plotLeft, Y(tick), plotRight, Y(tick), ChartStyle.Grid);
            svg.Text(plotLeft - 6, Y(tick) + 4, options.YTickFormat?.Invoke(tick) ?? ChartStyle.TickLabel(tick, yStep), 11, TextAnchor.End, ChartStyle.MutedText);
        }
        double[] xTicks = ChartStyle.NiceTicks(xMin, xMax, Math.Min(8, Math.Max(2, (int)((plotRight - plotLeft) / 60))));
        if (options.IntegerX) xTicks = xTicks.Where(t => Math.Abs(t - Math.Round(t)) < 1e-9).ToArray();
        double xStep = xTicks.Length > 1 ? xTicks[1] - xTicks[0] : 1;
        foreach (double tick in xTicks)
        {
            if (tick < xMin - 1e-9 || tick > xMax + 1e-9) continue;
            svg.Line(X(tick), plotBottom, X(tick), plotBottom + 4, ChartStyle.Axis);
            svg.Text(X(tick), plotBottom + 16, ChartStyle.TickLabel(tick, xStep), 11, TextAnchor.Middle, ChartStyle.MutedText);
        }
        svg.Line(plotLeft, plotTop, plotLeft, plotBottom, ChartStyle.Axis);
        svg.Line(plotLeft, plotBottom, plotRight, plotBottom, ChartStyle.Axis);
        if (options.XAxisTitle is not null)
            svg.Text((plotLeft + plotRight) / 2, plotBottom + 34, options.XAxisTitle, 12, TextAnchor.Middle, ChartStyle.MutedText);
        if (options.YAxisTitle is not null)
            svg.Text(margin + 10, (plotTop + plotBottom) / 2, options.YAxisTitle, 12, TextAnchor.Middle, ChartStyle.MutedText, rotate: -90);

        double legendX = plotLeft;
        for (int s = 0; s < series.Count; s++)
        {
            var line = series[s];
            string color = line.Color ?? ChartStyle.Color(s);
            string? dash = line.Dashed ? "6 4" : null;
            foreach (var run in Runs(line.Points))
            {
                var scaled = run.Select(p => (X(p.X), Y(p.Y))).ToList();
                if (scaled.Count > 1) svg.Polyline(scaled, color, 2, dash);
                foreach (var (x, y) in scaled) svg.Circle(x, y, 3, color);
            }
            double legendY = margin + titleHeight + 10;
            svg.Line(legendX, legendY, legendX + 22, legendY, color, 2.5, dash);
            svg.Text(legendX + 27, legendY + 4, line.Name, 11);
            legendX += 40 + ChartStyle.TextWidth(line.Name, 11);
        }
        return svg;
    }

    /// <summary>Consecutive finite points; a non-finite point ends a run.</summary>
    private static IEnumerable<List<(double X, double Y)>> Runs(IReadOnlyList<(double X, double Y)> points)
    {
        var run = new List<(double X, double Y)>();
        foreach (var p in points)
        {
            if (double.IsFinite(p.X) && double.IsFinite(p.Y)) run.Add(p);
            else if (run.Count > 0)
            {
                yield return run;
                run = [];
            }
        }
        if (run.Count > 0) yield return run;
    }
}
