using System.Text;
using Mnist.Core.Data;

namespace Mnist.Core.Training.Ensembles;

/// <summary>
/// A fitted ensemble: its class probabilities are the mean of its members' (<see cref="SoftVote"/>). The model
/// file's payload nests every member's payload, each framed by its trainer name and length, so one file holds them all.
/// </summary>
internal sealed class EnsembleModel : ITrainedModel, ICombinedModel
{
    private const int PayloadVersion = 1;

    public EnsembleModel(string trainerName, EnsembleOptions options, IReadOnlyList<ITrainedModel> members)
    {
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        TrainerName = trainerName;
        Options = options;
        Members = members;
    }

    public string TrainerName { get; }
    public EnsembleOptions Options { get; }
    public IReadOnlyDictionary<string, object> Hyperparameters => EnsembleOptions.Schema.ToDictionary(Options);
    /// <summary>The members, in order; the report shows each one's accuracy beside the ensemble's.</summary>
    public IReadOnlyList<ITrainedModel> Members { get; }

    /// <summary>Calibrated only when every member's probabilities are.</summary>
    public bool HasCalibratedProbabilities => Members.All(m => m.HasCalibratedProbabilities);

    /// <summary>The members' engines, each named once ("own", "own + ML.NET 5.0.1").</summary>
    public string Engine => string.Join(" + ", Members.Select(m => m.Engine).Distinct(StringComparer.Ordinal));

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities) =>
        Combine(Members.Select(m => m.PredictProbabilities(data)).ToList(), probabilities[..(data.Count * DigitDataView.ClassCount)]); // the contract allows a longer buffer

    /// <summary>The soft vote: the mean of the members' probabilities.</summary>
    public void Combine(IReadOnlyList<float[]> memberProbabilities, Span<float> probabilities) =>
        SoftVote.Average(memberProbabilities, probabilities);

    /// <summary>Every member that has test-time augmentation gets <paramref name="variants"/>; null when none has.</summary>
    public ITrainedModel? WithTestTimeAugmentation(int variants)
    {
        var augmented = Members.Select(m => m.WithTestTimeAugmentation(variants)).ToList();
        if (augmented.All(m => m is null)) return null;
        return new EnsembleModel(TrainerName, EnsembleOptions.Schema.Validate(Options with { Tta = variants }),
            augmented.Select((m, i) => m ?? Members[i]).ToList());
    }

    public void WritePayload(BinaryWriter writer)
    {
        writer.Write(PayloadVersion);
        EnsembleOptions.Schema.Write(writer, Options);
        WriteMembers(writer, Members);
    }

    /// <summary>Reads a payload written by <see cref="WritePayload"/>; the members' trainers come from <paramref name="catalog"/>.</summary>
    public static EnsembleModel Load(TrainerCatalog catalog, string trainerName, BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != PayloadVersion) throw new InvalidDataException($"unsupported ensemble payload version {version}");
        var options = EnsembleOptions.Schema.Read(reader);
        var expected = EnsembleMembers.Parse(options.Members, catalog, trainerName).Select(m => m.Trainer).ToList();
        return new EnsembleModel(trainerName, options, ReadMembers(reader, catalog, expected, complete: true));
    }

    /// <summary>The member count, then per member its trainer name, payload length and payload.</summary>
    internal static void WriteMembers(BinaryWriter writer, IReadOnlyList<ITrainedModel> members)
    {
        writer.Write(members.Count);
        foreach (var member in members)
        {
            using var payload = new MemoryStream();
            using (var memberWriter = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
                member.WritePayload(memberWriter);
            writer.Write(member.TrainerName);
            writer.Write((int)payload.Length);
            writer.Write(payload.GetBuffer(), 0, (int)payload.Length);
        }
    }

    /// <summary>
    /// Reads what <see cref="WriteMembers"/> wrote: the members must be the <paramref name="expected"/> trainers in
    /// order (all of them when <paramref name="complete"/>, a prefix in a checkpoint), each payload read whole by its
    /// trainer's reader. Anything else is an <see cref="InvalidDataException"/>.
    /// </summary>
    internal static List<ITrainedModel> ReadMembers(BinaryReader reader, TrainerCatalog catalog, IReadOnlyList<string> expected, bool complete)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > expected.Count || (complete && count != expected.Count))
            throw new InvalidDataException($"{count} members where the member list names {expected.Count}");
        var members = new List<ITrainedModel>(count);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            if (!string.Equals(name, expected[i], StringComparison.Ordinal))
                throw new InvalidDataException($"member {i + 1} is a '{name}' model where the member list names '{expected[i]}'");
            int length = reader.ReadInt32();
            if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
                throw new InvalidDataException($"member {i + 1} declares a payload of {length} bytes, more than is left");
            using var memberReader = new BinaryReader(new MemoryStream(reader.ReadBytes(length), writable: false), Encoding.UTF8);
            var model = catalog.Find(name).LoadModel(memberReader);
            if (memberReader.BaseStream.Position != length)
                throw new InvalidDataException($"{length - memberReader.BaseStream.Position} unread bytes after member {i + 1} ({name})");
            members.Add(model);
        }
        return members;
    }
}

/// <summary>Soft voting: the mean of several models' class probabilities.</summary>
internal static class SoftVote
{
    /// <summary>
    /// Writes the element-wise mean of <paramref name="members"/> (each count × classes, row-major) into
    /// <paramref name="average"/>, summing in member order so the result is reproducible.
    /// </summary>
    public static void Average(IReadOnlyList<float[]> members, Span<float> average)
    {
        if (members.Count == 0) throw new ArgumentException("Nothing to average.", nameof(members));
        foreach (var member in members)
            if (member.Length != average.Length) throw new ArgumentException($"A member gave {member.Length} probabilities where {average.Length} are needed.", nameof(members));
        members[0].CopyTo(average);
        for (int m = 1; m < members.Count; m++)
            System.Numerics.Tensors.TensorPrimitives.Add(average, members[m], average);
        System.Numerics.Tensors.TensorPrimitives.Multiply(average, 1f / members.Count, average);
    }
}
