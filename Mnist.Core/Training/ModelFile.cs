using System.Text;
using Mnist.Core.Data;

namespace Mnist.Core.Training;

/// <summary>What a model file's header says, readable without loading the model.</summary>
public sealed record ModelFileHeader(int FormatVersion, string TrainerName, string HyperparametersJson, long PayloadLength);

/// <summary>
/// The model file format shared by every trainer, framed by <see cref="ChecksummedFile"/>:
/// <code>
/// "MNISTMDL"                 8 bytes magic
/// int32   format version     (2; version 1 files are still read)
/// string  trainer name       (BinaryWriter length-prefixed UTF-8)
/// string  hyperparameters    (JSON object)
/// int64   payload length
/// 32 B    SHA-256            of the header above and the payload (version 1: of the payload only)
/// payload                    written by ITrainedModel.WritePayload
/// </code>
/// Saving goes through a temporary file renamed into place, so an existing model is never half-overwritten.
/// </summary>
public static class ModelFile
{
    /// <summary>2: the checksum covers the header too (format 1, payload only, is still read).</summary>
    public const int FormatVersion = 2;
    private static readonly byte[] Magic = "MNISTMDL"u8.ToArray();

    public static void Save(ITrainedModel model, string path)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
            model.WritePayload(writer);
        ChecksummedFile.Write(path, Magic, FormatVersion, model.TrainerName, System.Text.Json.JsonSerializer.Serialize(model.Hyperparameters), payload.ToArray());
    }

    /// <summary>
    /// Reads and checks the header and checksum, then lets the trainer's registration read the payload.
    /// Any failure of that reader (a payload that passes the checksum but does not make a model, say one
    /// written by a buggy build) is a <see cref="DataFormatException"/> too, never another exception type.
    /// </summary>
    public static ITrainedModel Load(string path, TrainerCatalog catalog)
    {
        var (header, payload) = ReadVerified(path);
        var registration = catalog.TryFind(header.TrainerName)
            ?? throw new DataFormatException(path, $"the model was written by trainer '{header.TrainerName}', which this build does not know", "header");
        return ReadPayload(path, header.TrainerName, payload, registration.LoadModel);
    }

    /// <summary>Runs a trainer's payload reader over <paramref name="payload"/>, turning every failure into a <see cref="DataFormatException"/>.</summary>
    internal static T ReadPayload<T>(string path, string trainerName, byte[] payload, Func<BinaryReader, T> read, string what = "model")
    {
        using var reader = new BinaryReader(new MemoryStream(payload, writable: false), Encoding.UTF8);
        T result;
        try
        {
            result = read(reader);
        }
        catch (DataFormatException)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            // The payload passed its checksum, so whatever the reader tripped over is a malformed file
            // (EndOfStream, InvalidData, Format, Overflow, Argument, IndexOutOfRange, OutOfMemory...).
            string message = e.Message.Replace('\r', ' ').Replace('\n', ' ');
            throw new DataFormatException(path, $"the {trainerName} {what} payload is malformed ({e.GetType().Name}: {message})", "payload", e);
        }
        if (reader.BaseStream.Position != reader.BaseStream.Length)
            throw new DataFormatException(path, $"{reader.BaseStream.Length - reader.BaseStream.Position} unread bytes after the {trainerName} {what}", "payload");
        return result;
    }

    /// <summary>Reads the header only (after checking the magic and version).</summary>
    public static ModelFileHeader ReadHeader(string path)
    {
        var header = ReadVerified(path).Header;
        return new ModelFileHeader(header.FormatVersion, header.TrainerName, header.Metadata, header.PayloadLength);
    }

    private static (ChecksummedFileHeader Header, byte[] Payload) ReadVerified(string path) =>
        ChecksummedFile.Read(path, Magic, FormatVersion, "model", headerHashedFromVersion: 2);
}
