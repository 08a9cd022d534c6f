using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Xml.Linq;
using Mnist.Core.Reporting.Charts;

namespace Mnist.Tests.Reporting;

internal static class Svg
{
    public static readonly XNamespace Ns = "http://www.w3.org/2000/svg";

    public static XDocument Parse(SvgDocument svg) => XDocument.Parse(svg.ToXml());

    public static List<XElement> All(XDocument document, string name) => document.Descendants(Ns + name).ToList();
}

[TestFixture]
public sealed class SvgDocumentTests
{
    [Test]
    public void TextAndAttributesAreEscapedAndTheResultIsWellFormed()
    {
        string nasty = "a < b & \"c\" > 'd' \u0001 ]]> \ud83d\ude00";
        var svg = new SvgDocument(100, 50, nasty).Text(1, 2, nasty).Rect(0, 0, 10, 10, "#ff0000", tooltip: nasty);
        var document = Svg.Parse(svg);
        var text = Svg.All(document, "text").Single();
        Assert.Multiple(() =>
        {
            Assert.That(document.Root!.Name, Is.EqualTo(Svg.Ns + "svg"));
            Assert.That(document.Root.Attribute("viewBox")!.Value, Is.EqualTo("0 0 100 50"));
            Assert.That(text.Value, Is.EqualTo("a < b & \"c\" > 'd'  ]]> \ud83d\ude00"), "the control character is dropped, the rest survives");
            Assert.That(Svg.All(document, "title").Select(t => t.Value), Has.All.Contains("a < b &"));
        });
    }

    [Test]
    public void CoordinatesHaveAtMostTwoDecimalsAndNonFiniteOnesBecomeZero()
    {
        var rect = Svg.All(Svg.Parse(new SvgDocument(10, 10).Rect(1.23456, double.NaN, 2.5, 3, "#000000")), "rect")[1];
        Assert.That(rect.Attribute("x")!.Value, Is.EqualTo("1.23"));
        Assert.That(rect.Attribute("y")!.Value, Is.EqualTo("0"));
        Assert.That(rect.Attribute("width")!.Value, Is.EqualTo("2.5"));
    }

    [Test]
    public void SaveWritesAFileThatXDocumentLoads()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mnist-svg-{Guid.NewGuid():N}.svg");
        try
        {
            new SvgDocument(20, 20, "t").Circle(5, 5, 2, "#00ff00").Save(path);
            Assert.That(XDocument.Load(path).Root!.Name.LocalName, Is.EqualTo("svg"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ZeroSizeIsRejected()
    {
        Assert.That(() => new SvgDocument(0, 10), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}

[TestFixture]
public sealed class ChartStyleTests
{
    [TestCase(0.0, 1.0)]
    [TestCase(0.0, 100.0)]
    [TestCase(0.913, 0.987)]
    [TestCase(-3.0, 17.0)]
    [TestCase(5.0, 5.0)]
    [TestCase(0.0, 0.0)]
    [TestCase(2.5e-5, 1.2e-4)]
    public void NiceTicksEncloseTheRangeInEvenStepsOfOneTwoOrFive(double min, double max)
    {
        double[] ticks = ChartStyle.NiceTicks(min, max);
        Assert.That(ticks, Has.Length.InRange(2, 12));
        Assert.That(ticks[0], Is.LessThanOrEqualTo(min));
        Assert.That(ticks[^1], Is.GreaterThanOrEqualTo(max));
        double step = ticks[1] - ticks[0];
        for (int i = 1; i < ticks.Length; i++) Assert.That(ticks[i] - ticks[i - 1], Is.EqualTo(step).Within(step * 1e-6));
        double mantissa = step / Math.Pow(10, Math.Floor(Math.Log10(step)));
        Assert.That(new[] { 1.0, 2.0, 5.0, 10.0 }.Any(m => Math.Abs(m - mantissa) < 1e-6), Is.True, $"step {step}");
    }

    [Test]
    public void SequentialRampGoesFromNearWhiteToDarkBlue()
    {
        Assert.That(ChartStyle.Sequential(0), Is.EqualTo("#f7fbff"));
        Assert.That(ChartStyle.Sequential(1), Is.EqualTo("#08306b"));
        Assert.That(ChartStyle.Sequential(double.NaN), Is.EqualTo("#f7fbff"));
        Assert.That(ChartStyle.Sequential(7), Is.EqualTo("#08306b"));
    }
}

[TestFixture]
public sealed class PngEncoderTests
{
    [Test]
    public void Crc32MatchesTheStandardCheckValue()
    {
        Assert.That(PngEncoder.Crc32("123456789"u8), Is.EqualTo(0xCBF43926u));
        Assert.That(PngEncoder.Crc32([]), Is.Zero);
    }

    [Test]
    public void GrayscalePngHasValidChunksAndDecodesToThePixels()
    {
        byte[] pixels = Enumerable.Range(0, 5 * 3).Select(i => (byte)(i * 17)).ToArray();
        byte[] png = PngEncoder.Grayscale(5, 3, pixels);

        Assert.That(png.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
        var chunks = new List<(string Type, byte[] Data)>();
        for (int at = 8; at < png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = Encoding.ASCII.GetString(png, at + 4, 4);
            byte[] data = png.AsSpan(at + 8, length).ToArray();
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.That(crc, Is.EqualTo(PngEncoder.Crc32(png.AsSpan(at + 4, 4 + length))), $"CRC of {type}");
            chunks.Add((type, data));
            at += 12 + length;
        }
        Assert.That(chunks.Select(c => c.Type), Is.EqualTo(new[] { "IHDR", "IDAT", "IEND" }));
        var header = chunks[0].Data;
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(header), Is.EqualTo(5));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)), Is.EqualTo(3));
        Assert.That(header.AsSpan(8).ToArray(), Is.EqualTo(new byte[] { 8, 0, 0, 0, 0 }), "8-bit greyscale, deflate, no interlace");

        using var zlib = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        byte[] scanlines = raw.ToArray();
        Assert.That(scanlines, Has.Length.EqualTo(3 * 6));
        for (int y = 0; y < 3; y++)
        {
            Assert.That(scanlines[y * 6], Is.Zero, "filter type None");
            Assert.That(scanlines.AsSpan(y * 6 + 1, 5).ToArray(), Is.EqualTo(pixels.AsSpan(y * 5, 5).ToArray()));
        }
    }

    [Test]
    public void DigitsAreDarkInkOnWhitePaper()
    {
        byte[] png = PngEncoder.Digit(2, 1, [0f, 1f]);
        Assert.That(PngEncoder.DataUri(png), Does.StartWith("data:image/png;base64,iVBORw0KGgo"));
        var idat = png.AsSpan(8 + 25 + 8).ToArray(); // after signature and IHDR, skip IDAT length+type
        int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(33));
        using var zlib = new ZLibStream(new MemoryStream(idat, 0, length), CompressionMode.Decompress);
        var raw = new byte[3];
        zlib.ReadExactly(raw);
        Assert.That(raw, Is.EqualTo(new byte[] { 0, 255, 0 }));
    }

    [Test]
    public void WrongPixelCountIsRejected()
    {
        Assert.That(() => PngEncoder.Grayscale(3, 3, new byte[8]), Throws.ArgumentException);
    }
}

[TestFixture]
public sealed class ChartRendererTests
{
    [Test]
    public void BarChartDrawsOneBarPerValueWithLabelsAndWhiskers()
    {
        var bars = new[] { new Bar("logreg", 92.5, ValueText: "92.50%"), new Bar("mlp <&>", 98.1, 0.4), new Bar("broken", double.NaN, ValueText: "n/a") };
        var document = Svg.Parse(BarChart.Render(bars, new BarChartOptions { Title = "Accuracy", ValueAxisTitle = "%", Min = 0, Max = 100 }));
        var barRects = Svg.All(document, "rect").Where(r => r.Element(Svg.Ns + "title") is not null).ToList();
        var texts = Svg.All(document, "text").Select(t => t.Value).ToList();
        Assert.That(barRects, Has.Count.EqualTo(2), "no bar for a non-finite value");
        Assert.That(texts, Does.Contain("logreg").And.Contain("mlp <&>").And.Contain("broken").And.Contain("92.50%").And.Contain("n/a").And.Contain("100"));
        double width0 = double.Parse(barRects[0].Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        double width1 = double.Parse(barRects[1].Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(width1 / width0, Is.EqualTo(98.1 / 92.5).Within(0.01), "bars are proportional from zero");
        Assert.That(Svg.All(document, "line"), Has.Count.GreaterThanOrEqualTo(3 + 2), "axis, grid and a 3-line whisker");
    }

    [Test]
    public void OverlongLabelsAreCutButKeptWholeInTheTooltip()
    {
        string label = "#1 " + string.Join(", ", Enumerable.Range(0, 20).Select(i => $"parameter{i}=0.001"));
        var document = Svg.Parse(BarChart.Render([new Bar(label, 50)], new BarChartOptions { Width = 500 }));
        string shown = Svg.All(document, "text").Select(t => t.Value).Single(t => t.StartsWith("#1", StringComparison.Ordinal));
        Assert.That(shown, Does.EndWith("…"));
        Assert.That(shown.Length, Is.LessThan(label.Length));
        Assert.That(Svg.All(document, "title").Select(t => t.Value), Has.Some.StartsWith(label));
    }

    [Test]
    public void EmptyBarChartIsStillADocument()
    {
        Assert.That(Svg.Parse(BarChart.Render([])).Root, Is.Not.Null);
    }

    [Test]
    public void LineChartDrawsEachSeriesAndBreaksAtMissingPoints()
    {
        var series = new[]
        {
            new Series("train loss", [(1, 0.9), (2, 0.5), (3, 0.3)]),
            new Series("validation loss", [(1, 0.8), (2, double.NaN), (3, 0.4), (4, 0.35)], Dashed: true),
        };
        var document = Svg.Parse(LineChart.Render(series, new LineChartOptions { Title = "Loss", XAxisTitle = "epoch", YAxisTitle = "loss" }));
        var lines = Svg.All(document, "polyline");
        Assert.That(lines, Has.Count.EqualTo(2), "the validation series' first point stands alone after the gap");
        Assert.That(lines[1].Attribute("stroke-dasharray"), Is.Not.Null);
        Assert.That(Svg.All(document, "circle"), Has.Count.EqualTo(3 + 3));
        Assert.That(Svg.All(document, "text").Select(t => t.Value), Does.Contain("train loss").And.Contain("validation loss").And.Contain("epoch"));
    }

    [Test]
    public void SinglePointLineChartGetsAMarkerAndSaneAxes()
    {
        var document = Svg.Parse(LineChart.Render([new Series("acc", [(1, 97.0)])]));
        Assert.That(Svg.All(document, "circle"), Has.Count.EqualTo(1));
        Assert.That(Svg.All(document, "polyline"), Is.Empty);
    }

    [Test]
    public void HeatmapHasACellPerEntryWithItsTextAndLabels()
    {
        double[][] intensity = [[1.0, 0.1], [0.0, 0.5]];
        string[][] text = [["50", "2"], ["0", "25"]];
        var document = Svg.Parse(Heatmap.Render(intensity, text, new HeatmapOptions { RowLabels = ["a", "b"], ColumnLabels = ["x", "y"], Title = "M" }));
        var cells = Svg.All(document, "rect").Where(r => r.Element(Svg.Ns + "title") is not null).ToList();
        Assert.That(cells, Has.Count.EqualTo(4));
        Assert.That(cells[0].Attribute("fill")!.Value, Is.EqualTo(ChartStyle.Sequential(1)));
        Assert.That(cells[1].Element(Svg.Ns + "title")!.Value, Is.EqualTo("a / y: 2"));
        Assert.That(Svg.All(document, "text").Select(t => t.Value), Is.SupersetOf(new[] { "50", "2", "0", "25", "a", "b", "x", "y", "M" }));
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
        pixels[300] = 1f;
        var tiles = new DigitTile?[]
        {
            new(pixels, 28, 28, "7/7"),
            new(pixels, 28, 28, "1/7", Highlight: true),
            null,
            new(pixels, 28, 28, "3/3"),
        };
        var document = Svg.Parse(DigitGrid.Render(tiles, new DigitGridOptions { Columns = 2, Title = "digits" }));
        var images = Svg.All(document, "image");
        Assert.That(images, Has.Count.EqualTo(3), "a null tile leaves an empty slot");
        Assert.That(images.Select(i => i.Attribute("href")!.Value), Has.All.StartWith("data:image/png;base64,"));
        var red = Svg.All(document, "rect").Where(r => r.Attribute("stroke")?.Value == ChartStyle.Highlight).ToList();
        Assert.That(red, Has.Count.EqualTo(1));
        Assert.That(Svg.All(document, "text").Where(t => t.Attribute("fill")?.Value == ChartStyle.Highlight).Select(t => t.Value), Is.EqualTo(new[] { "1/7" }));
        Assert.That(images[2].Attribute("y")!.Value, Is.Not.EqualTo(images[0].Attribute("y")!.Value), "the tile after the gap starts the second row");
    }

    [Test]
    public void EmptyDigitGridSaysSo()
    {
        var document = Svg.Parse(DigitGrid.Render([], new DigitGridOptions { EmptyText = "No misclassified digits." }));
        Assert.That(Svg.All(document, "text").Select(t => t.Value), Does.Contain("No misclassified digits."));
    }

    [Test]
    public void DigitGridRejectsATileWhosePixelsDoNotMatchItsSize()
    {
        Assert.That(() => DigitGrid.Render([new DigitTile(new float[10], 28, 28, "x")]), Throws.ArgumentException);
    }
}
