using System.Buffers.Binary;
using System.IO.Compression;

namespace Mnist.Core.Reporting.Charts;

/// <summary>
/// A minimal PNG encoder for 8-bit greyscale images (colour type 0, no interlace, filter 0 on every
/// row): signature, IHDR, one zlib-compressed IDAT and IEND, each chunk with its CRC-32.
/// Enough to embed digits in SVG as data URIs without an imaging package.
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Encodes <paramref name="width"/>×<paramref name="height"/> grey levels (0 = black, 255 = white), row-major.</summary>
    public static byte[] Grayscale(int width, int height, ReadOnlySpan<byte> pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "A PNG needs a positive size.");
        if (pixels.Length != (long)width * height) throw new ArgumentException($"{pixels.Length} pixels for a {width}×{height} image.", nameof(pixels));

        using var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = 0;  // colour type: greyscale
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, header);

        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                for (int y = 0; y < height; y++)
                {
                    zlib.WriteByte(0); // filter type None
                    zlib.Write(pixels.Slice(y * width, width));
                }
            }
            WriteChunk(output, "IDAT"u8, compressed.ToArray());
        }
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    /// <summary>Encodes a digit whose pixels are ink intensities in [0,1] as dark ink on white paper.</summary>
    public static byte[] Digit(int width, int height, ReadOnlySpan<float> ink)
    {
        var grey = new byte[ink.Length];
        for (int i = 0; i < ink.Length; i++)
        {
            float v = float.IsFinite(ink[i]) ? Math.Clamp(ink[i], 0f, 1f) : 0f;
            grey[i] = (byte)Math.Round(255 * (1 - v));
        }
        return Grayscale(width, height, grey);
    }

    /// <summary>A <c>data:image/png;base64,…</c> URI for <paramref name="png"/>.</summary>
    public static string DataUri(ReadOnlySpan<byte> png) => "data:image/png;base64," + Convert.ToBase64String(png);

    /// <summary>The CRC-32 (ISO-HDLC, as PNG and zlib's crc32 use) of <paramref name="data"/>.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        output.Write(number);
        output.Write(type);
        output.Write(data);
        uint crc = ~Update(Update(0xFFFFFFFFu, type), data);
        BinaryPrimitives.WriteUInt32BigEndian(number, crc);
        output.Write(number);
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
