using System.Text;
using System.Text.Json;
using Mnist.Core.Data;

namespace Mnist.Core.Training;

/// <summary>
/// A trainer that can save its progress and continue from it: <see cref="Fit(DigitDataView, DigitDataView?, IProgress{TrainingProgress}?, CancellationToken, TrainingCheckpoint)"/>
/// saves to the checkpoint at safe points (e.g. every epoch end) and, when the checkpoint
/// already exists, resumes from it instead of starting over. A resumed fit gives the same model as an
/// uninterrupted one with the same data, hyperparameters and threads.
/// </summary>
public interface ICheckpointingTrainer : ITrainer
{
    /// <summary>Fits as <see cref="ITrainer.Fit"/> does, saving to <paramref name="checkpoint"/> as it goes and resuming from it when it exists.</summary>
    ITrainedModel Fit(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken, TrainingCheckpoint checkpoint);
}

/// <summary>
/// One trainer's checkpoint file: the <see cref="ChecksummedFile"/> framing (magic "MNISTCKP", format
/// version, trainer name, hyperparameters JSON, SHA-256) around a payload the trainer writes. Saving is
/// atomic (an interrupted save leaves the previous checkpoint whole); loading checks the framing, that the
/// checkpoint belongs to this trainer with these hyperparameters, and turns any failure of the trainer's
/// reader into a <see cref="DataFormatException"/>.
/// </summary>
public sealed class TrainingCheckpoint
{
    /// <summary>The version of the checkpoint framing.</summary>
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "MNISTCKP"u8.ToArray();

    /// <param name="path">The checkpoint file.</param>
    /// <param name="trainerName">The catalog name of the trainer it belongs to.</param>
    /// <param name="hyperparameters">The trainer's resolved hyperparameters; a checkpoint saved with others is refused.</param>
    public TrainingCheckpoint(string path, string trainerName, IReadOnlyDictionary<string, object> hyperparameters)
    {
        Path = System.IO.Path.GetFullPath(path);
        TrainerName = trainerName;
        HyperparametersJson = JsonSerializer.Serialize(new SortedDictionary<string, object>(hyperparameters.ToDictionary(), StringComparer.Ordinal));
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }
    /// <summary>The trainer the checkpoint belongs to.</summary>
    public string TrainerName { get; }
    /// <summary>The hyperparameters (as JSON) the checkpoint belongs to.</summary>
    public string HyperparametersJson { get; }

    /// <summary>Whether the checkpoint file exists.</summary>
    public bool Exists => File.Exists(Path);

    /// <summary>Called after every successful <see cref="Save"/> (the runner logs it; tests wait for it).</summary>
    public event Action<TrainingCheckpoint>? Saved;

    /// <summary>Writes the payload atomically: the previous checkpoint stays whole until the new one is complete.</summary>
    public void Save(Action<BinaryWriter> write)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
            write(writer);
        ChecksummedFile.Write(Path, Magic, FormatVersion, TrainerName, HyperparametersJson, payload.ToArray());
        Saved?.Invoke(this);
    }

    /// <summary>Reads the payload with <paramref name="read"/>; a corrupt, foreign or mismatched checkpoint is a <see cref="DataFormatException"/>.</summary>
    public T Load<T>(Func<BinaryReader, T> read)
    {
        var (header, payload) = ChecksummedFile.Read(Path, Magic, FormatVersion, "checkpoint");
        if (!string.Equals(header.TrainerName, TrainerName, StringComparison.Ordinal))
            throw new DataFormatException(Path, $"the checkpoint belongs to trainer '{header.TrainerName}', not '{TrainerName}'", "header");
        if (!string.Equals(header.Metadata, HyperparametersJson, StringComparison.Ordinal))
            throw new DataFormatException(Path, $"the checkpoint was saved with other hyperparameters ({header.Metadata}) than this run's ({HyperparametersJson})", "header");
        return ModelFile.ReadPayload(Path, TrainerName, payload, read, "checkpoint");
    }

    /// <summary>Removes the checkpoint (and any temporary file a killed save left beside it).</summary>
    public void Delete()
    {
        if (File.Exists(Path)) File.Delete(Path);
        string? folder = System.IO.Path.GetDirectoryName(Path);
        if (folder is null || !Directory.Exists(folder)) return;
        foreach (string temporary in Directory.EnumerateFiles(folder, $".{System.IO.Path.GetFileName(Path)}.*.tmp"))
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

/// <summary>
/// The data a checkpoint was saved training on (training and validation counts, pixels per image), written at its
/// start: a resumed fit must see the same, or its checkpoint is refused.
/// </summary>
internal readonly record struct CheckpointDataShape(int Train, int Validation, int Pixels)
{
    public static CheckpointDataShape Of(DigitDataView train, DigitDataView? validation) => new(train.Count, validation?.Count ?? 0, train.PixelCount);

    public void Write(BinaryWriter writer)
    {
        writer.Write(Train);
        writer.Write(Validation);
        writer.Write(Pixels);
    }

    /// <summary>Reads a shape written by <see cref="Write"/>; an <see cref="InvalidDataException"/> unless it equals this one.</summary>
    public void ReadAndCheck(BinaryReader reader)
    {
        var saved = new CheckpointDataShape(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        if (saved != this)
            throw new InvalidDataException($"the checkpoint was saved training on {saved.Train} images ({saved.Validation} validation, {saved.Pixels} pixels), " +
                                           $"this run has {Train} ({Validation}, {Pixels})");
    }
}
