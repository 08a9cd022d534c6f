using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Mnist.Core.IO;

namespace Mnist.Core.Reporting.Charts;

/// <summary>Horizontal alignment of a text element relative to its anchor point.</summary>
public enum TextAnchor
{
    Start,
    Middle,
    End,
}

/// <summary>
/// A small SVG builder: shapes, text and embedded images appended in paint order, written as
/// well-formed XML through <see cref="System.Xml.Linq"/> (text and attribute values are escaped, and
/// characters XML cannot hold are dropped). The chart renderers (<see cref="BarChart"/>,
/// <see cref="LineChart"/>, <see cref="Heatmap"/>, <see cref="DigitGrid"/>) draw onto one of these.
/// </summary>
public sealed class SvgDocument
{
    /// <summary>The SVG namespace.</summary>
    public static readonly XNamespace Ns = "http://www.w3.org/2000/svg";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private const string FontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif";

    private readonly XElement _root;

    public SvgDocument(double width, double height, string? title = null)
    {
        if (!(width > 0) || !(height > 0)) throw new ArgumentOutOfRangeException(nameof(width), "An SVG document needs a positive size.");
        Width = width;
        Height = height;
        _root = new XElement(Ns + "svg",
            new XAttribute("width", Number(width)),
            new XAttribute("height", Number(height)),
            new XAttribute("viewBox", $"0 0 {Number(width)} {Number(height)}"),
            new XAttribute("font-family", FontFamily));
        if (title is not null) _root.Add(new XElement(Ns + "title", Clean(title)));
        _root.Add(new XElement(Ns + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "#ffffff")));
    }

    public double Width { get; }
    public double Height { get; }

    /// <summary>A rectangle; <paramref name="tooltip"/> becomes a &lt;title&gt; child shown on hover.</summary>
    public SvgDocument Rect(double x, double y, double width, double height, string fill, string? stroke = null, double strokeWidth = 1, string? tooltip = null)
    {
        var element = new XElement(Ns + "rect",
            new XAttribute("x", Number(x)), new XAttribute("y", Number(y)),
            new XAttribute("width", Number(Math.Max(0, width))), new XAttribute("height", Number(Math.Max(0, height))),
            new XAttribute("fill", fill));
        if (stroke is not null) element.Add(new XAttribute("stroke", stroke), new XAttribute("stroke-width", Number(strokeWidth)));
        return Append(element, tooltip);
    }

    public SvgDocument Line(double x1, double y1, double x2, double y2, string stroke, double strokeWidth = 1, string? dash = null)
    {
        var element = new XElement(Ns + "line",
            new XAttribute("x1", Number(x1)), new XAttribute("y1", Number(y1)),
            new XAttribute("x2", Number(x2)), new XAttribute("y2", Number(y2)),
            new XAttribute("stroke", stroke), new XAttribute("stroke-width", Number(strokeWidth)));
        if (dash is not null) element.Add(new XAttribute("stroke-dasharray", dash));
        return Append(element, null);
    }

    /// <summary>An open line through <paramref name="points"/> (at least two).</summary>
    public SvgDocument Polyline(IEnumerable<(double X, double Y)> points, string stroke, double strokeWidth = 2, string? dash = null)
    {
        string text = string.Join(' ', points.Select(p => $"{Number(p.X)},{Number(p.Y)}"));
        var element = new XElement(Ns + "polyline",
            new XAttribute("points", text), new XAttribute("fill", "none"),
            new XAttribute("stroke", stroke), new XAttribute("stroke-width", Number(strokeWidth)),
            new XAttribute("stroke-linejoin", "round"));
        if (dash is not null) element.Add(new XAttribute("stroke-dasharray", dash));
        return Append(element, null);
    }

    public SvgDocument Circle(double cx, double cy, double radius, string fill, string? tooltip = null) =>
        Append(new XElement(Ns + "circle",
            new XAttribute("cx", Number(cx)), new XAttribute("cy", Number(cy)), new XAttribute("r", Number(radius)),
            new XAttribute("fill", fill)), tooltip);

    /// <summary>Text whose baseline starts, centres or ends at (x, y); <paramref name="rotate"/> turns it (degrees) about that point.</summary>
    public SvgDocument Text(double x, double y, string text, double size = 12, TextAnchor anchor = TextAnchor.Start,
        string fill = "#222222", bool bold = false, double rotate = 0)
    {
        var element = new XElement(Ns + "text",
            new XAttribute("x", Number(x)), new XAttribute("y", Number(y)),
            new XAttribute("font-size", Number(size)), new XAttribute("fill", fill),
            Clean(text));
        if (anchor != TextAnchor.Start) element.Add(new XAttribute("text-anchor", anchor == TextAnchor.Middle ? "middle" : "end"));
        if (bold) element.Add(new XAttribute("font-weight", "bold"));
        if (rotate != 0) element.Add(new XAttribute("transform", $"rotate({Number(rotate)} {Number(x)} {Number(y)})"));
        return Append(element, null);
    }

    /// <summary>An embedded raster image (typically a data: URI); <paramref name="pixelated"/> keeps pixels sharp when scaled up.</summary>
    public SvgDocument Image(double x, double y, double width, double height, string href, bool pixelated = true, string? tooltip = null)
    {
        var element = new XElement(Ns + "image",
            new XAttribute("x", Number(x)), new XAttribute("y", Number(y)),
            new XAttribute("width", Number(width)), new XAttribute("height", Number(height)),
            new XAttribute("href", href), new XAttribute("preserveAspectRatio", "none"));
        if (pixelated) element.Add(new XAttribute("style", "image-rendering:pixelated;image-rendering:crisp-edges"));
        return Append(element, tooltip);
    }

    /// <summary>The document as an XML string (UTF-8 declaration, indented).</summary>
    public string ToXml()
    {
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null), _root);
        var builder = new StringBuilder();
        using (var writer = XmlWriter.Create(new Utf8StringWriter(builder), new XmlWriterSettings { Indent = true, NewLineChars = "\n", CheckCharacters = true }))
            document.Save(writer);
        return builder.Append('\n').ToString();
    }

    /// <summary>Writes the document atomically (temporary file renamed into place).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToXml());

    public override string ToString() => ToXml();

    private SvgDocument Append(XElement element, string? tooltip)
    {
        if (tooltip is not null) element.Add(new XElement(Ns + "title", Clean(tooltip)));
        _root.Add(element);
        return this;
    }

    /// <summary>A coordinate with at most two decimals, invariant culture; non-finite values become 0.</summary>
    internal static string Number(double value) =>
        double.IsFinite(value) ? Math.Round(value, 2).ToString("0.##", Invariant) : "0";

    /// <summary>Drops characters XML 1.0 cannot represent (control characters, lone surrogates).</summary>
    internal static string Clean(string text)
    {
        if (text.All(XmlConvert.IsXmlChar)) return text;
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (XmlConvert.IsXmlChar(c)) builder.Append(c);
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && XmlConvert.IsXmlSurrogatePair(text[i + 1], c))
            {
                builder.Append(c).Append(text[i + 1]);
                i++;
            }
        }
        return builder.ToString();
    }

    private sealed class Utf8StringWriter(StringBuilder builder) : StringWriter(builder, CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}
