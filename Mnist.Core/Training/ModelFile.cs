using System.Security.Cryptography;
using System.Text;
using Mnist.Core.Data;
using Mnist.Core.Reporting;

namespace Mnist.Core.Training;

/// <summary>What a model file's header says, readable without loading the model.</summary>
public sealed record ModelFileHeader(int FormatVersion, string TrainerName, string HyperparametersJson, long PayloadLength);

/// <summary>
/// The model file format shared by every trainer:
/// <code>
/// "MNISTMDL"                 8 bytes magic
/// int32   format version     (1)
/// string  trainer name       (BinaryWriter length-prefixed UTF-8)
/// string  hyperparameters    (JSON object)
/// int64   payload length
/// 32 B    SHA-256 of payload
/// payload                    written by ITrainedModel.WritePayload
/// </code>
/// Saving goes through a temporary file renamed into place, so an existing model is never half-overwritten.
/// </summary>
public static class ModelFile
{
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "MNISTMDL"u8.ToArray();
    private const int MaxHeaderString = 1 << 20;

    public static void Save(ITrainedModel model, string path)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
            model.WritePayload(writer);
        byte[] payloadBytes = payload.ToArray();
        string hyperparameters = HyperparameterJson.Serialize(model.Hyperparameters);

        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(model.TrainerName);
            writer.Write(hyperparameters);
            writer.Write((long)payloadBytes.Length);
            writer.Write(SHA256.HashData(payloadBytes));
            writer.Write(payloadBytes);
        });
    }

    /// <summary>Reads and checks the header and checksum, then lets the trainer's registration read the payload.</summary>
    public static ITrainedModel Load(string path, TrainerCatalog catalog)
    {
        var (header, payload) = ReadVerified(path);
        var registration = catalog.TryFind(header.TrainerName)
            ?? throw new DataFormatException(path, $"the model was written by trainer '{header.TrainerName}', which this build does not know", "header");
        using var reader = new BinaryReader(new MemoryStream(payload, writable: false), Encoding.UTF8);
        try
        {
            var model = registration.LoadModel(reader);
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new DataFormatException(path, $"{reader.BaseStream.Length - reader.BaseStream.Position} unread bytes after the {header.TrainerName} model", "payload");
            return model;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException or OverflowException or OutOfMemoryException)
        {
            throw new DataFormatException(path, $"the {header.TrainerName} model payload is malformed ({e.Message})", "payload", e);
        }
    }

    /// <summary>Reads the header only (after checking the magic and version).</summary>
    public static ModelFileHeader ReadHeader(string path) => ReadVerified(path).Header;

    private static (ModelFileHeader Header, byte[] Payload) ReadVerified(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (stream.Length < Magic.Length || !reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new DataFormatException(path, "not a MnistExperiments model file (bad magic)", "header");
            int version = reader.ReadInt32();
            if (version > FormatVersion)
                throw new DataFormatException(path, $"model format version {version} is newer than this build supports ({FormatVersion})", "header");
            if (version < 1)
                throw new DataFormatException(path, $"invalid model format version {version}", "header");
            string trainer = ReadBoundedString(reader, path);
            string hyperparameters = ReadBoundedString(reader, path);
            long length = reader.ReadInt64();
            if (length < 0 || length > stream.Length - stream.Position - 32)
                throw new DataFormatException(path, $"declared payload of {length} bytes but the file holds {Math.Max(0, stream.Length - stream.Position - 32)}", "header");
            byte[] expected = reader.ReadBytes(32);
            byte[] payload = reader.ReadBytes((int)length);
            if (!SHA256.HashData(payload).AsSpan().SequenceEqual(expected))
                throw new DataFormatException(path, "payload checksum mismatch (the file is corrupted)", "payload");
            if (stream.Position != stream.Length)
                throw new DataFormatException(path, $"{stream.Length - stream.Position} unexpected bytes after the payload", "payload");
            return (new ModelFileHeader(version, trainer, hyperparameters, length), payload);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException(path, "the file is truncated", "header", e);
        }
    }

    private static string ReadBoundedString(BinaryReader reader, string path)
    {
        // BinaryReader's 7-bit length prefix; bound it before allocating so a corrupt length cannot blow memory.
        long start = reader.BaseStream.Position;
        int length = reader.Read7BitEncodedInt();
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
