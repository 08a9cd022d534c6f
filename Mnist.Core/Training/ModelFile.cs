using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mnist.Core.Data;

namespace Mnist.Core.Training;

/// <summary>
/// What a model file's header says, readable without loading the model. <see cref="TrainingDataSha256"/> is the
/// <see cref="DataFingerprint"/> of the images the model was fitted on (null in files of format 1 and 2, or when
/// the writer did not know it).
/// </summary>
public sealed record ModelFileHeader(int FormatVersion, string TrainerName, string HyperparametersJson, long PayloadLength, string? TrainingDataSha256 = null);

/// <summary>
/// The model file format shared by every trainer, framed by <see cref="ChecksummedFile"/>:
/// <code>
/// "MNISTMDL"                 8 bytes magic
/// int32   format version     (3; versions 1 and 2 are still read)
/// string  trainer name       (BinaryWriter length-prefixed UTF-8)
/// string  metadata           (JSON: {"hyperparameters": {...}, "trainingDataSha256": "hex" or null};
///                             format 1 and 2: the hyperparameters object itself)
/// int64   payload length
/// 32 B    SHA-256            of the header above and the payload (version 1: of the payload only)
/// payload                    written by ITrainedModel.WritePayload
/// </code>
/// Saving goes through a temporary file renamed into place, so an existing model is never half-overwritten.
/// </summary>
public static class ModelFile
{
    /// <summary>
    /// 3: the header metadata also records the training data's fingerprint; 2: the checksum covers the header
    /// too (format 1, payload only, and 2 are still read).
    /// </summary>
    public const int FormatVersion = 3;
    private static readonly byte[] Magic = "MNISTMDL"u8.ToArray();

    /// <summary>Writes <paramref name="model"/>; <paramref name="trainingDataSha256"/> (see <see cref="DigitDataView.ContentSha256"/>) is recorded in the header when given.</summary>
    public static void Save(ITrainedModel model, string path, string? trainingDataSha256 = null)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
            model.WritePayload(writer);
        var metadata = new JsonObject
        {
            [HyperparametersKey] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(model.Hyperparameters)),
            [TrainingDataKey] = trainingDataSha256,
        };
        ChecksummedFile.Write(path, Magic, FormatVersion, model.TrainerName, metadata.ToJsonString(), payload.ToArray());
    }

    private const string HyperparametersKey = "hyperparameters";
    private const string TrainingDataKey = "trainingDataSha256";

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
        if (header.FormatVersion < 3) return new ModelFileHeader(header.FormatVersion, header.TrainerName, header.Metadata, header.PayloadLength);
        try
        {
            using var metadata = JsonDocument.Parse(header.Metadata);
            var root = metadata.RootElement;
            string hyperparameters = root.GetProperty(HyperparametersKey).GetRawText();
            string? trainingData = root.TryGetProperty(TrainingDataKey, out var hash) && hash.ValueKind == JsonValueKind.String ? hash.GetString() : null;
            return new ModelFileHeader(header.FormatVersion, header.TrainerName, hyperparameters, header.PayloadLength, trainingData);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new DataFormatException(path, $"the header metadata is not a valid format {header.FormatVersion} object ({e.Message})", "header", e);
        }
    }

    private static (ChecksummedFileHeader Header, byte[] Payload) ReadVerified(string path) =>
        ChecksummedFile.Read(path, Magic, FormatVersion, "model", headerHashedFromVersion: 2);
}
