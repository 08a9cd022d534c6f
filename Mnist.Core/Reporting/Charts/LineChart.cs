using ScottPlot;

namespace Mnist.Core.Reporting.Charts;

/// <summary>One line: its legend name, its points (a non-finite Y is a missing point) and its style.</summary>
internal sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points, string? Color = null, bool Dashed = false);

/// <summary>Titles and size of a <see cref="LineChart"/>.</summary>
internal sealed record LineChartOptions
{
    public string? Title { get; init; }
    public string? XAxisTitle { get; init; }
    public string? YAxisTitle { get; init; }
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 400;
}

/// <summary>A line chart with markers and a legend, for per-epoch learning curves (integer epochs on X).</summary>
internal static class LineChart
{
    public static string Render(IReadOnlyList<Series> series, LineChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        options ??= new LineChartOptions();
        var plot = ChartStyle.NewPlot(options.Title);
        for (int i = 0; i < series.Count; i++)
        {
            // Missing points are left out: the line joins the epochs on either side.
            var points = series[i].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(),
                ScottPlot.Color.FromHex(series[i].Color ?? ChartStyle.Color(i)));
            line.LegendText = series[i].Name;
            line.LineWidth = 2;
            line.MarkerSize = points.Length <= 30 ? 6 : 0; // markers on long runs only blur the line (and bloat the SVG)
            if (series[i].Dashed) line.LinePattern = LinePattern.Dashed;
        }
        var xs = series.SelectMany(s => s.Points).Select(p => p.X).Where(double.IsFinite).ToList();
        if (xs.Count > 0 && xs.Max() - xs.Min() <= 20)
        {
            // Whole epochs only: ScottPlot's automatic ticks would print 1.5 on a short run.
            int first = (int)Math.Floor(xs.Min()), last = (int)Math.Ceiling(xs.Max());
            plot.Axes.Bottom.SetTicks(Enumerable.Range(first, last - first + 1).Select(e => (double)e).ToArray(),
                Enumerable.Range(first, last - first + 1).Select(e => e.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            if (first == last) plot.Axes.SetLimitsX(first - 1, last + 1);
        }
        if (options.XAxisTitle is not null) plot.XLabel(options.XAxisTitle, 12);
        if (options.YAxisTitle is not null) plot.YLabel(options.YAxisTitle, 12);
        plot.ShowLegend(Edge.Bottom); // under the data, never over it
        return ChartStyle.Svg(plot, options.Width, options.Height);
    }
}
