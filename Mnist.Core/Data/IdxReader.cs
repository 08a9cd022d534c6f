using System.Buffers.Binary;

namespace Mnist.Core.Data;

/// <summary>
/// Reads the IDX format of the original MNIST distribution, raw or gzip-compressed: a big-endian
/// header (magic 0x00000801 for labels, 0x00000803 for images, then each dimension) followed by unsigned bytes.
/// </summary>
internal static class IdxReader
{
    public const int LabelsMagic = 0x00000801;
    public const int ImagesMagic = 0x00000803;
    /// <summary>Largest image side accepted; guards against absurd headers before anything is allocated.</summary>
    public const int MaxImageSide = 4096;

    /// <summary>Images as raw bytes, count × rows × columns, row-major.</summary>
    public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);

    public static IdxImages ReadImages(string path)
    {
        using var stream = InputFile.Open(path);
        Span<byte> header = stackalloc byte[16];
        ReadHeader(stream, header, path, "images", ImagesMagic);
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count < 0) throw new DataFormatException(path, $"negative image count {count}", "header");
        if (count == 0) throw new DataFormatException(path, "the file declares no images", "header");
        if (rows <= 0 || columns <= 0 || rows > MaxImageSide || columns > MaxImageSide)
            throw new DataFormatException(path, $"image size {rows}×{columns} is outside 1..{MaxImageSide}", "header");
        int imageBytes = rows * columns;
        byte[] pixels = ReadRecords(stream, path, count, imageBytes, "image");
        return new IdxImages(count, rows, columns, pixels);
    }

    public static byte[] ReadLabels(string path)
    {
        using var stream = InputFile.Open(path);
        Span<byte> header = stackalloc byte[8];
        ReadHeader(stream, header, path, "labels", LabelsMagic);
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 0) throw new DataFormatException(path, $"negative label count {count}", "header");
        if (count == 0) throw new DataFormatException(path, "the file declares no labels", "header");
        byte[] labels = ReadRecords(stream, path, count, 1, "label");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] > 9) throw new DataFormatException(path, $"label {labels[i]} is outside 0..9", $"record {i + 1}");
        return labels;
    }

    /// <summary>Reads the magic (checked first, so a wrong kind of file says so) and then the dimensions.</summary>
    private static void ReadHeader(Stream stream, Span<byte> header, string path, string kind, int expectedMagic)
    {
        int read = InputFile.ReadFully(stream, header[..4], path);
        if (read == 4)
        {
            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            if (magic != expectedMagic)
                throw new DataFormatException(path, $"wrong IDX magic 0x{magic:X8}; an IDX {kind} file starts with 0x{expectedMagic:X8}", "header");
            read += InputFile.ReadFully(stream, header[4..], path);
        }
        if (read < header.Length)
            throw new DataFormatException(path, $"truncated IDX {kind} header: {read} of {header.Length} bytes", "header");
    }

    /// <summary>
    /// Reads count records of recordBytes each. The buffer grows with the data actually present, so a
    /// header that declares 10⁹ records in a small file fails as truncated without allocating 10⁹ records.
    /// </summary>
    private static byte[] ReadRecords(Stream stream, string path, int count, int recordBytes, string kind)
    {
        long total = (long)count * recordBytes;
        if (total > Array.MaxLength) throw new DataFormatException(path, $"declared {count} {kind}s of {recordBytes} bytes exceed the largest supported size", "header");
        if (stream is FileStream file && total > file.Length - file.Position)
            throw Truncated(path, kind, count, recordBytes, file.Length - file.Position);
        byte[] buffer = new byte[(int)Math.Min(total, 16L << 20)];
        long filled = 0;
        while (filled < total)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min(total, (long)buffer.Length * 2));
            int n = InputFile.ReadFully(stream, buffer.AsSpan((int)filled, buffer.Length - (int)filled), path);
            filled += n;
            if (filled < buffer.Length) throw Truncated(path, kind, count, recordBytes, filled);
        }
        Span<byte> probe = stackalloc byte[1];
        if (InputFile.ReadFully(stream, probe, path) != 0)
            throw new DataFormatException(path, $"unexpected data after the {count} declared {kind}s", $"record {count + 1}");
        return buffer;
    }

    private static DataFormatException Truncated(string path, string kind, int count, int recordBytes, long available)
    {
        long complete = available / recordBytes;
        return new DataFormatException(path,
            $"truncated: the header declares {count} {kind}s but the data ends after {complete}", $"record {complete + 1}");
    }
}
