using ScottPlot;

namespace Mnist.Core.Reporting.Charts;

/// <summary>One bar: its label, value, an optional ± error (drawn as a whisker) and the text printed beside it.</summary>
internal sealed record Bar(string Label, double Value, double? Error = null, string? ValueText = null, string? Color = null);

/// <summary>Layout and axis settings of a <see cref="BarChart"/>.</summary>
internal sealed record BarChartOptions
{
    public string? Title { get; init; }
    /// <summary>The caption under the value axis, e.g. "test accuracy (%)".</summary>
    public string? ValueAxisTitle { get; init; }
    /// <summary>Axis start; default 0 (bars start at zero).</summary>
    public double Min { get; init; }
    /// <summary>The largest value the axis must show (e.g. 100 for percentages); default the largest bar plus its error.</summary>
    public double? Max { get; init; }
    public int Width { get; init; } = 640;
    /// <summary>Pixels per bar row.</summary>
    public int RowHeight { get; init; } = 32;
    /// <summary>Longer category labels are cut with "…".</summary>
    public int MaxLabelLength { get; init; } = 60;
}

/// <summary>A horizontal bar chart: one labelled row per bar, first bar on top, the value printed at its end.</summary>
internal static class BarChart
{
    public static string Render(IReadOnlyList<Bar> bars, BarChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bars);
        options ??= new BarChartOptions();
        var plot = ChartStyle.NewPlot(options.Title);
        int count = bars.Count;
        double Row(int i) => count - 1 - i;

        var drawn = new List<ScottPlot.Bar>();
        for (int i = 0; i < count; i++)
        {
            var bar = bars[i];
            if (!double.IsFinite(bar.Value))
            {
                var missing = plot.Add.Text(bar.ValueText ?? "n/a", options.Min, Row(i));
                missing.LabelFontSize = 12;
                missing.LabelFontColor = ScottPlot.Color.FromHex(ChartStyle.MutedText);
                missing.LabelAlignment = Alignment.MiddleLeft;
                continue;
            }
            drawn.Add(new ScottPlot.Bar
            {
                Position = Row(i),
                ValueBase = options.Min,
                Value = bar.Value,
                Error = bar.Error ?? 0,
                FillColor = ScottPlot.Color.FromHex(bar.Color ?? ChartStyle.Color(0)),
                // ScottPlot draws the ± whisker with the bar's outline pen: a thin dark outline only where there is one.
                LineWidth = bar.Error is > 0 ? 1 : 0,
                LineColor = ScottPlot.Color.FromHex(ChartStyle.Text),
                Size = 0.7,
            });
        }
        if (drawn.Count > 0) plot.Add.Bars(drawn).Horizontal = true;
        // The value text goes after the bar's whisker (ScottPlot's own bar labels would sit on it).
        for (int i = 0; i < count; i++)
        {
            var bar = bars[i];
            if (!double.IsFinite(bar.Value)) continue;
            var label = plot.Add.Text(bar.ValueText ?? bar.Value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
                bar.Value + Math.Max(0, bar.Error ?? 0), Row(i));
            label.LabelFontSize = 12;
            label.LabelFontColor = ScottPlot.Color.FromHex(ChartStyle.Text);
            label.LabelAlignment = Alignment.MiddleLeft;
            label.LabelOffsetX = 5;
        }

        plot.Axes.Left.SetTicks(Enumerable.Range(0, count).Select(i => Row(i)).ToArray(), bars.Select(b => Cut(b.Label, options.MaxLabelLength)).ToArray());
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
        if (options.ValueAxisTitle is not null) plot.Axes.Bottom.Label.Text = options.ValueAxisTitle;
        plot.Axes.Bottom.Label.FontSize = 12;
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;

        double top = options.Max ?? bars.Where(b => double.IsFinite(b.Value)).Select(b => b.Value + (b.Error ?? 0)).DefaultIfEmpty(1).Max();
        if (top <= options.Min) top = options.Min + 1;
        if (options.Max is double max)
        {
            // Ticks only up to the stated maximum (100 % is the end of the scale), room to its right for the value text.
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                NiceSteps(options.Min, max).Select(t => new Tick(t, t.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture), true)).ToArray());
        }
        plot.Axes.SetLimits(options.Min, top + (top - options.Min) * 0.16, -0.6, Math.Max(count, 1) - 0.4);
        return ChartStyle.Svg(plot, options.Width, 90 + Math.Max(1, count) * options.RowHeight + (options.ValueAxisTitle is null ? 0 : 18));
    }

    /// <summary>Five or so ticks from <paramref name="min"/> to <paramref name="max"/> in steps of 1, 2 or 5 × 10^k.</summary>
    private static IEnumerable<double> NiceSteps(double min, double max)
    {
        double raw = (max - min) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw))), residual = raw / magnitude;
        double step = (residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10) * magnitude;
        for (double t = min; t <= max + step * 1e-9; t += step) yield return Math.Round(t, 9);
    }

    private static string Cut(string label, int length) => label.Length <= length ? label : label[..(length - 1)] + "…";
}
