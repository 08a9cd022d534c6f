using System.IO.Compression;

namespace Mnist.Core.Data;

/// <summary>Opens a data file for reading, transparently gunzipping it when it starts with the gzip magic.</summary>
internal static class InputFile
{
    /// <summary>
    /// The largest (decompressed) content read whole: 1 GiB, ten times the full MNIST as CSV. Kept well under
    /// what a MemoryStream or an array can hold, so a larger file (or a gzip bomb) fails as a
    /// <see cref="DataFormatException"/> instead of an IOException or OutOfMemoryException.
    /// </summary>
    public const long MaxContentBytes = 1L << 30;

    /// <summary>Reads the whole (decompressed) content; a missing, empty, corrupt or oversized file raises <see cref="DataFormatException"/>.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes = MaxContentBytes)
    {
        using var stream = Open(path);
        return ReadToEnd(stream, path, maxBytes);
    }

    /// <summary>The file's content, gunzipped when it starts with the gzip magic; an empty file raises <see cref="DataFormatException"/>.</summary>
    public static Stream Open(string path)
    {
        var file = OpenRaw(path);
        if (file.Length == 0)
        {
            file.Dispose();
            throw new DataFormatException(path, "the file is empty");
        }
        Span<byte> head = stackalloc byte[2];
        int read = file.Read(head);
        file.Position = 0;
        if (read == 2 && head[0] == 0x1f && head[1] == 0x8b)
            return new GZipStream(file, CompressionMode.Decompress);
        return file;
    }

    /// <summary>
    /// The file as stored (no decompression): a folder, a missing file or one that cannot be opened (permissions,
    /// an I/O error) raises <see cref="DataFormatException"/> naming it.
    /// </summary>
    public static FileStream OpenRaw(string path)
    {
        if (Directory.Exists(path)) throw new DataFormatException(path, "is a folder, not a file");
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot open: {e.Message}", inner: e);
        }
    }

    /// <summary>Reads <paramref name="stream"/> to its end, turning a corrupt gzip stream into a data-format error.</summary>
    public static byte[] ReadToEnd(Stream stream, string path, long maxBytes)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[1 << 16];
        try
        {
            int n;
            while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + n > maxBytes) throw new DataFormatException(path, $"the (decompressed) content is larger than {maxBytes} bytes");
                buffer.Write(chunk, 0, n);
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt or truncated gzip stream ({e.Message})", inner: e);
        }
        catch (IOException e)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", inner: e);
        }
        if (buffer.Length == 0) throw new DataFormatException(path, "the file is empty");
        return buffer.ToArray();
    }

    /// <summary>
    /// Fills <paramref name="destination"/> from <paramref name="stream"/>; returns how many bytes were read
    /// (less than requested only at the end of the stream).
    /// </summary>
    public static int ReadFully(Stream stream, Span<byte> destination, string path)
    {
        int total = 0;
        try
        {
            while (total < destination.Length)
            {
                int n = stream.Read(destination[total..]);
                if (n == 0) break;
                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt or truncated gzip stream ({e.Message})", inner: e);
        }
        catch (IOException e)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", inner: e);
        }
        return total;
    }
}
