namespace Mnist.Core.Data;

/// <summary>
/// Reads Kaggle "Digit Recognizer" CSV files: a header row, then one image per line. A first column
/// named <c>label</c> marks labelled (train) data; otherwise every column is a pixel (test data).
/// Pixels are integers 0..255 and their count must be a square (784 = 28×28). Plain or gzip, UTF-8
/// BOM and CRLF tolerated. Ids are the 1-based data-row numbers, which Kaggle uses as ImageId.
/// </summary>
/// <remarks>
/// A hand-written byte parser rather than a general CSV library: the content is a plain integer grid,
/// this runs about ten times faster than a general parser, and each error can name its exact line and column.
/// </remarks>
internal static class KaggleCsvReader
{
    public static DigitDataView Read(string path)
    {
        byte[] content = InputFile.ReadAllBytes(path);
        var text = content.AsSpan();
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) text = text[3..];

        int lineNumber = 1;
        ReadOnlySpan<byte> headerLine = NextLine(ref text);
        if (IsBlank(headerLine)) throw new DataFormatException(path, "missing header row", "line 1");
        var headerColumns = SplitHeader(headerLine);
        bool labelled = headerColumns[0].Equals("label", StringComparison.OrdinalIgnoreCase);
        int columnCount = headerColumns.Count;
        int pixelCount = labelled ? columnCount - 1 : columnCount;
        int side = (int)Math.Round(Math.Sqrt(pixelCount));
        if (pixelCount <= 0 || side * side != pixelCount)
            throw new DataFormatException(path, $"{pixelCount} pixel columns is not a square image size (784 = 28×28 expected)", "line 1");
        for (int c = labelled ? 1 : 0; c < columnCount; c++)
            if (headerColumns[c].Equals("label", StringComparison.OrdinalIgnoreCase))
                throw new DataFormatException(path, $"column {c + 1} is named 'label'; the label must be the first column", "line 1");

        // Pixels go straight to float; the row count is unknown up front, so grow by doubling.
        var pixels = new float[Math.Max(1, Math.Min(EstimateRows(text.Length, columnCount), 1 << 20)) * pixelCount];
        var labels = labelled ? new byte[pixels.Length / pixelCount] : null;
        int rows = 0;
        while (!text.IsEmpty)
        {
            lineNumber++;
            ReadOnlySpan<byte> line = NextLine(ref text);
            if (IsBlank(line))
            {
                if (IsAllBlank(text)) break; // trailing newlines
                throw new DataFormatException(path, "empty line", $"line {lineNumber}");
            }
            if ((long)(rows + 1) * pixelCount > pixels.Length)
            {
                int newRows = checked(Math.Max(rows * 2, rows + 1));
                Array.Resize(ref pixels, checked(newRows * pixelCount));
                if (labels is not null) Array.Resize(ref labels, newRows);
            }
            Span<float> destination = pixels.AsSpan(rows * pixelCount, pixelCount);
            int column = 0;
            int position = 0;
            while (true)
            {
                int end = line[position..].IndexOf((byte)',');
                ReadOnlySpan<byte> field = end < 0 ? line[position..] : line.Slice(position, end);
                if (column >= columnCount)
                    throw WrongColumns(path, lineNumber, columnCount, CountColumns(line));
                int value = ParseField(field, path, lineNumber, column, headerColumns[column]);
                if (labelled && column == 0)
                {
                    if (value > 9)
                        throw new DataFormatException(path, $"label {value} is outside 0..9", $"line {lineNumber}, column 'label'");
                    labels![rows] = (byte)value;
                }
                else
                {
                    destination[labelled ? column - 1 : column] = PixelScale.Table[value];
                }
                column++;
                if (end < 0) break;
                position += end + 1;
            }
            if (column != columnCount) throw WrongColumns(path, lineNumber, columnCount, column);
            rows++;
        }
        if (rows == 0) throw new DataFormatException(path, "the file has a header but no data rows");

        Array.Resize(ref pixels, rows * pixelCount);
        if (labels is not null) Array.Resize(ref labels, rows);
        var ids = new int[rows];
        for (int i = 0; i < rows; i++) ids[i] = i + 1;
        return new DigitDataView(side, side, pixels, labels, ids);
    }

    private static int EstimateRows(int bytes, int columns) => Math.Max(1, bytes / Math.Max(1, columns * 2));

    private static DataFormatException WrongColumns(string path, int line, int expected, int found) =>
        new(path, $"expected {expected} columns (as in the header), found {found}", $"line {line}");

    private static int ParseField(ReadOnlySpan<byte> field, string path, int line, int column, string columnName)
    {
        // Integers 0..255 (up to 3 digits), optionally surrounded by spaces or quotes.
        field = field.Trim((byte)' ');
        if (field.Length >= 2 && field[0] == (byte)'"' && field[^1] == (byte)'"') field = field[1..^1].Trim((byte)' ');
        if (field.IsEmpty || field.Length > 3)
            throw BadValue(path, line, columnName, field);
        int value = 0;
        foreach (byte b in field)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9) throw BadValue(path, line, columnName, field);
            value = value * 10 + (int)digit;
        }
        if (value > 255) throw BadValue(path, line, columnName, field);
        return value;
    }

    private static DataFormatException BadValue(string path, int line, string columnName, ReadOnlySpan<byte> field)
    {
        string shown = System.Text.Encoding.UTF8.GetString(field.Length > 20 ? field[..20] : field);
        if (field.Length > 20) shown += "…";
        return new DataFormatException(path, $"'{shown}' is not an integer in 0..255", $"line {line}, column '{columnName}'");
    }

    private static int CountColumns(ReadOnlySpan<byte> line) => line.Count((byte)',') + 1;

    private static List<string> SplitHeader(ReadOnlySpan<byte> line)
    {
        var names = new List<string>();
        foreach (var range in line.Split((byte)','))
        {
            string name = System.Text.Encoding.UTF8.GetString(line[range]).Trim().Trim('"').Trim();
            names.Add(name);
        }
        return names;
    }

    private static ReadOnlySpan<byte> NextLine(ref Span<byte> text)
    {
        int newline = text.IndexOf((byte)'\n');
        Span<byte> line;
        if (newline < 0)
        {
            line = text;
            text = [];
        }
        else
        {
            line = text[..newline];
            text = text[(newline + 1)..];
        }
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        return line;
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim((byte)' ').IsEmpty;

    private static bool IsAllBlank(ReadOnlySpan<byte> text) => text.IndexOfAnyExcept((byte)'\r', (byte)'\n', (byte)' ') < 0;
}
