using System.Globalization;
using System.Xml.Linq;
using Mnist.Core.Reporting.Charts;
using SkiaSharp;

namespace Mnist.Tests.Reporting;

/// <summary>Reads the SVG the charts write (ScottPlot's and SkiaSharp's SVG canvas).</summary>
internal static class Svg
{
    public static readonly XNamespace Ns = "http://www.w3.org/2000/svg";
    private static readonly XNamespace XLink = "http://www.w3.org/1999/xlink";

    public static XDocument Parse(string svg) => XDocument.Parse(svg);

    public static List<XElement> All(XDocument document, string name) => document.Descendants(Ns + name).ToList();

    /// <summary>Every text element's string, trimmed (the SVG canvas indents text content).</summary>
    public static List<string> Texts(XDocument document) => All(document, "text").Select(t => t.Value.Trim()).ToList();

    /// <summary>The rectangles filled with <paramref name="color"/> (upper-case #RRGGBB).</summary>
    public static List<XElement> Filled(XDocument document, string color) =>
        All(document, "rect").Where(r => string.Equals(r.Attribute("fill")?.Value, color, StringComparison.OrdinalIgnoreCase)).ToList();

    public static double Number(XElement element, string attribute) => double.Parse(element.Attribute(attribute)!.Value, CultureInfo.InvariantCulture);

    /// <summary>The embedded images, decoded: each must be a valid PNG data URI.</summary>
    public static List<SKBitmap> Images(XDocument document) => All(document, "image").Select(image =>
    {
        string href = image.Attribute(XLink + "href")?.Value ?? image.Attribute("href")!.Value;
        Assert.That(href, Does.StartWith("data:image/png;base64,"));
        return SKBitmap.Decode(Convert.FromBase64String(href["data:image/png;base64,".Length..]));
    }).ToList();
}

[TestFixture]
public sealed class ChartStyleTests
{
    [Test]
    public void SequentialRampGoesFromNearWhiteToDarkBlue()
    {
        Assert.That(ChartStyle.Sequential(0), Is.EqualTo("#F7FBFF"));
        Assert.That(ChartStyle.Sequential(1), Is.EqualTo("#08306B"));
        Assert.That(ChartStyle.Sequential(double.NaN), Is.EqualTo("#F7FBFF"));
        Assert.That(ChartStyle.Sequential(7), Is.EqualTo("#08306B"));
    }

    [Test]
    public void TheChartFontIsAFontWithGlyphs()
    {
        Assert.That(ChartFont.Regular.GlyphCount, Is.GreaterThan(100), $"font family {ChartFont.Family}");
        using var font = new SKFont(ChartFont.Regular, 12);
        Assert.That(font.MeasureText("predicted class"), Is.GreaterThan(40), "text takes room, so it is drawn");
    }
}

[TestFixture]
public sealed class ChartRendererTests
{
    [Test]
    public void BarChartDrawsOneProportionalBarPerFiniteValueWithItsLabels()
    {
        var bars = new[]
        {
            new Bar("logreg", 92.5, ValueText: "92.50%", Color: "#0072B2"),
            new Bar("mlp <&>", 46.25, 0.4, "46.25%", "#E69F00"),
            new Bar("broken", double.NaN, ValueText: "n/a", Color: "#009E73"),
        };
        var document = Svg.Parse(BarChart.Render(bars, new BarChartOptions { Title = "Accuracy", ValueAxisTitle = "test accuracy (%)", Max = 100 }));
        var texts = Svg.Texts(document);
        var first = Svg.Filled(document, "#0072B2").Single();
        var second = Svg.Filled(document, "#E69F00").Single();
        Assert.Multiple(() =>
        {
            Assert.That(document.Root!.Name, Is.EqualTo(Svg.Ns + "svg"));
            Assert.That(Svg.Filled(document, "#009E73"), Is.Empty, "no bar for a non-finite value");
            Assert.That(texts, Is.SupersetOf(new[] { "Accuracy", "test accuracy (%)", "logreg", "mlp <&>", "broken", "92.50%", "46.25%", "n/a", "0", "100" }));
            Assert.That(texts, Does.Not.Contain("120"), "ticks stop at the stated maximum");
            Assert.That(Svg.Number(first, "width") / Svg.Number(second, "width"), Is.EqualTo(2).Within(0.01), "bars are proportional from zero");
            Assert.That(Svg.Number(first, "y"), Is.LessThan(Svg.Number(second, "y")), "the first bar is on top");
            var valueText = Svg.All(document, "text").Single(t => t.Value.Trim() == "46.25%");
            double textX = double.Parse(valueText.Attribute("transform")!.Value.Split('(', ' ')[1], CultureInfo.InvariantCulture);
            Assert.That(textX, Is.GreaterThan(Svg.Number(second, "x") + Svg.Number(second, "width") * (46.25 + 0.4) / 46.25), "the value text sits after the bar and its whisker");
        });
    }

    [Test]
    public void TheSamePictureDrawnTwiceIsByteIdentical()
    {
        // Skia numbers clip paths from a process-wide counter; the chart writer renumbers them.
        Bar[] bars = [new("logreg", 92.6), new("knn", 97.0)];
        string first = BarChart.Render(bars, new BarChartOptions { Title = "Accuracy", Max = 100 });
        string second = BarChart.Render(bars, new BarChartOptions { Title = "Accuracy", Max = 100 });
        Assert.That(second, Is.EqualTo(first));
        Assert.That(first, Does.Contain("cl_0"));
    }

    [Test]
    public void OverlongLabelsAreCut()
    {
        string label = "#1 " + string.Join(", ", Enumerable.Range(0, 20).Select(i => $"parameter{i}=0.001"));
        var texts = Svg.Texts(Svg.Parse(BarChart.Render([new Bar(label, 50)], new BarChartOptions { MaxLabelLength = 40 })));
        string shown = texts.Single(t => t.StartsWith("#1", StringComparison.Ordinal));
        Assert.That(shown, Does.EndWith("…").And.Length.EqualTo(40));
    }

    [Test]
    public void EmptyBarChartIsStillADocument()
    {
        Assert.That(Svg.Parse(BarChart.Render([])).Root!.Name, Is.EqualTo(Svg.Ns + "svg"));
    }

    [Test]
    public void LineChartNamesEachSeriesAndLabelsWholeEpochs()
    {
        var series = new[]
        {
            new Series("train loss", [(1, 0.9), (2, 0.5), (3, 0.3)]),
            new Series("validation loss", [(1, 0.8), (2, double.NaN), (3, 0.4), (4, 0.35)], Dashed: true),
        };
        var texts = Svg.Texts(Svg.Parse(LineChart.Render(series, new LineChartOptions { Title = "Loss", XAxisTitle = "epoch", YAxisTitle = "loss" })));
        Assert.That(texts, Is.SupersetOf(new[] { "Loss", "train loss", "validation loss", "epoch", "loss", "1", "2", "3", "4" }));
        Assert.That(texts, Does.Not.Contain("1.5"), "epochs are whole numbers");
    }

    [Test]
    public void SinglePointLineChartRenders()
    {
        var texts = Svg.Texts(Svg.Parse(LineChart.Render([new Series("acc", [(1, 97.0)])], new LineChartOptions { Title = "one epoch" })));
        Assert.That(texts, Does.Contain("one epoch").And.Contain("acc").And.Contain("1"));
    }

    [Test]
    public void HeatmapHasACellPerEntryShadedByIntensityWithItsTextAndLabels()
    {
        double[][] intensity = [[1.0, 0.1], [0.0, 0.5]];
        string[][] text = [["50", "2"], ["0", "25"]];
        var document = Svg.Parse(Heatmap.Render(intensity, text, new HeatmapOptions { RowLabels = ["a", "b"], ColumnLabels = ["x", "y"], Title = "M", RowAxisTitle = "true class" }));
        var shades = new[] { 1.0, 0.1, 0.0, 0.5 }.Select(ChartStyle.Sequential).ToList();
        Assert.Multiple(() =>
        {
            foreach (string shade in shades) Assert.That(Svg.Filled(document, shade), Has.Count.EqualTo(1), shade);
            var full = Svg.Filled(document, shades[0]).Single();
            var empty = Svg.Filled(document, shades[2]).Single();
            Assert.That(Svg.Number(full, "y"), Is.LessThan(Svg.Number(empty, "y")), "the first row is on top");
            Assert.That(Svg.Number(full, "x"), Is.EqualTo(Svg.Number(empty, "x")).Within(0.5), "both in the first column");
            Assert.That(Svg.Texts(document), Is.SupersetOf(new[] { "50", "2", "0", "25", "a", "b", "x", "y", "M", "true class" }));
        });
    }

    [Test]
    public void HeatmapRejectsRaggedInput()
    {
        Assert.That(() => Heatmap.Render([[1.0, 0.0], [1.0]]), Throws.ArgumentException);
        Assert.That(() => Heatmap.Render([[1.0]], [["a", "b"]]), Throws.ArgumentException);
    }

    [Test]
    public void DigitGridEmbedsOnePngPerTileAndFramesHighlightedOnesInRed()
    {
        var pixels = new float[28 * 28];
        pixels[5 * 28 + 7] = 1f; // one ink pixel at row 5, column 7
        var tiles = new DigitTile?[]
        {
            new(pixels, 28, 28, "7/7"),
            new(pixels, 28, 28, "1/7", Highlight: true),
            null,
            new(pixels, 28, 28, "3/3"),
        };
        var document = Svg.Parse(DigitGrid.Render(tiles, new DigitGridOptions { Columns = 2, Title = "digits", Scale = 2 }));
        var images = Svg.Images(document);
        var red = Svg.All(document, "rect").Where(r => r.Attribute("stroke")?.Value == ChartStyle.Highlight).ToList();
        // Each image is placed by a <use transform="translate(x y)">.
        var placed = Svg.All(document, "use").Select(u => u.Attribute("transform")!.Value.Trim("translate()".ToCharArray()).Split(' ')
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(images, Has.Count.EqualTo(3), "a null tile leaves an empty slot");
            Assert.That(images[0].Width, Is.EqualTo(56), "scaled up 2×");
            Assert.That(images[0].GetPixel(14, 10).Red, Is.LessThan(30), "ink is dark");
            Assert.That(images[0].GetPixel(15, 11).Red, Is.LessThan(30), "each image pixel is a 2×2 block");
            Assert.That(images[0].GetPixel(0, 0).Red, Is.GreaterThan(225), "paper is white");
            Assert.That(red, Has.Count.EqualTo(1));
            Assert.That(Svg.All(document, "text").Where(t => t.Attribute("fill")?.Value == ChartStyle.Highlight).Select(t => t.Value.Trim()), Is.EqualTo(new[] { "1/7" }));
            Assert.That(Svg.Texts(document), Is.SupersetOf(new[] { "digits", "7/7", "1/7", "3/3" }));
            Assert.That(placed, Has.Count.EqualTo(3));
            Assert.That(placed[2][0], Is.EqualTo(placed[1][0]), "the gap takes the second row's first slot: the last tile sits under the second");
            Assert.That(placed[2][1], Is.GreaterThan(placed[1][1]));
        });
    }

    [Test]
    public void EmptyDigitGridSaysSo()
    {
        var document = Svg.Parse(DigitGrid.Render([], new DigitGridOptions { EmptyText = "No misclassified digits." }));
        Assert.That(Svg.Texts(document), Does.Contain("No misclassified digits."));
        Assert.That(Svg.All(document, "image"), Is.Empty);
    }

    [Test]
    public void DigitGridRejectsATileWhosePixelsDoNotMatchItsSize()
    {
        Assert.That(() => DigitGrid.Render([new DigitTile(new float[10], 28, 28, "x")]), Throws.ArgumentException);
    }
}
