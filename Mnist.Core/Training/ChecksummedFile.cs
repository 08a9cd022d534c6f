using System.Security.Cryptography;
using System.Text;
using Mnist.Core.Data;
using Mnist.Core.IO;

namespace Mnist.Core.Training;

/// <summary>What a checksummed file's header says: format version, the trainer that wrote it, a metadata string (JSON) and the payload size.</summary>
internal sealed record ChecksummedFileHeader(int FormatVersion, string TrainerName, string Metadata, long PayloadLength);

/// <summary>
/// The framing shared by model files and training checkpoints:
/// <code>
/// magic                      8 bytes ("MNISTMDL" for models, "MNISTCKP" for checkpoints)
/// int32   format version
/// string  trainer name       (BinaryWriter length-prefixed UTF-8)
/// string  metadata           (a JSON object: the hyperparameters)
/// int64   payload length
/// 32 B    SHA-256            of everything before it and the payload (format 1 of model files: the payload only)
/// payload
/// </code>
/// Writing goes through <see cref="AtomicFile"/>, so an existing file is never half-overwritten.
/// Reading checks magic, version, lengths and checksum before anything is returned; every problem is
/// a <see cref="DataFormatException"/> and no allocation exceeds the file's real size.
/// </summary>
internal static class ChecksummedFile
{
    public const int MagicLength = 8;
    private const int MaxHeaderString = 1 << 20;

    /// <summary>Writes a file whose checksum covers the header and the payload.</summary>
    public static void Write(string path, ReadOnlySpan<byte> magic, int formatVersion, string trainerName, string metadata, byte[] payload)
    {
        if (magic.Length != MagicLength) throw new ArgumentException($"The magic must be {MagicLength} bytes.", nameof(magic));
        using var header = new MemoryStream();
        using (var writer = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(magic);
            writer.Write(formatVersion);
            writer.Write(trainerName);
            writer.Write(metadata);
            writer.Write((long)payload.Length);
        }
        byte[] headerBytes = header.ToArray();
        byte[] hash = Hash(headerBytes, payload);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(headerBytes);
            stream.Write(hash);
            stream.Write(payload);
        });
    }

    private static byte[] Hash(byte[] header, byte[] payload)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header);
        hash.AppendData(payload);
        return hash.GetHashAndReset();
    }

    /// <summary>
    /// Reads and verifies a file written by <see cref="Write"/>; <paramref name="kind"/> ("model", "checkpoint")
    /// names it in errors. Files of a format version below <paramref name="headerHashedFromVersion"/> have a
    /// checksum of the payload only (model files of format 1).
    /// </summary>
    public static (ChecksummedFileHeader Header, byte[] Payload) Read(string path, ReadOnlySpan<byte> magic, int maxFormatVersion, string kind, int headerHashedFromVersion = 1)
    {
        using (var stream = InputFile.OpenRaw(path))
        using (var reader = new BinaryReader(stream, Encoding.UTF8))
        {
            try
            {
                Span<byte> head = stackalloc byte[MagicLength];
                if (stream.Length < MagicLength || stream.ReadAtLeast(head, MagicLength, throwOnEndOfStream: false) < MagicLength || !head.SequenceEqual(magic))
                    throw new DataFormatException(path, $"not a MnistExperiments {kind} file (bad magic)", "header");
                int version = reader.ReadInt32();
                if (version > maxFormatVersion)
                    throw new DataFormatException(path, $"{kind} format version {version} is newer than this build supports ({maxFormatVersion})", "header");
                if (version < 1)
                    throw new DataFormatException(path, $"invalid {kind} format version {version}", "header");
                string trainer = ReadBoundedString(reader, path);
                string metadata = ReadBoundedString(reader, path);
                long length = reader.ReadInt64();
                long available = stream.Length - stream.Position - SHA256.HashSizeInBytes;
                if (length < 0 || length > available || length > Array.MaxLength)
                    throw new DataFormatException(path, $"declared payload of {length} bytes but the file holds {Math.Max(0, available)}", "header");
                int headerLength = (int)stream.Position;
                byte[] expected = reader.ReadBytes(SHA256.HashSizeInBytes);
                byte[] payload = reader.ReadBytes((int)length);
                if (expected.Length != SHA256.HashSizeInBytes || payload.Length != length) throw new EndOfStreamException();
                bool headerHashed = version >= headerHashedFromVersion;
                byte[] actual;
                if (headerHashed)
                {
                    var headerBytes = new byte[headerLength];
                    stream.Position = 0;
                    stream.ReadExactly(headerBytes);
                    stream.Position = headerLength + SHA256.HashSizeInBytes + length;
                    actual = Hash(headerBytes, payload);
                }
                else
                {
                    actual = SHA256.HashData(payload);
                }
                if (!actual.AsSpan().SequenceEqual(expected))
                    throw new DataFormatException(path, headerHashed ? "checksum mismatch (the file is corrupted)" : "payload checksum mismatch (the file is corrupted)", headerHashed ? null : "payload");
                if (stream.Position != stream.Length)
                    throw new DataFormatException(path, $"{stream.Length - stream.Position} unexpected bytes after the payload", "payload");
                return (new ChecksummedFileHeader(version, trainer, metadata, length), payload);
            }
            catch (EndOfStreamException e)
            {
                throw new DataFormatException(path, "the file is truncated", "header", e);
            }
            catch (IOException e)
            {
                throw new DataFormatException(path, $"cannot read: {e.Message}", inner: e);
            }
        }
    }

    private static string ReadBoundedString(BinaryReader reader, string path)
    {
        // BinaryReader's 7-bit length prefix; bound it before allocating so a corrupt length cannot blow memory.
        long start = reader.BaseStream.Position;
        int length;
        try
        {
            length = reader.Read7BitEncodedInt();
        }
        catch (FormatException e)
        {
            throw new DataFormatException(path, "invalid header string length", "header", e);
        }
        if (length < 0 || length > MaxHeaderString || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new DataFormatException(path, $"invalid header string length {length}", "header");
        reader.BaseStream.Position = start;
        try
        {
            return reader.ReadString();
        }
        catch (FormatException e)
        {
            throw new DataFormatException(path, "invalid header string", "header", e);
        }
    }
}
