using Mnist.Cnn.Augmentation;
using Mnist.Cnn.Layers;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Cnn.Training;

/// <summary>A trained network: predicts in large batches and writes its architecture and weights to a model file.</summary>
public sealed class NeuralModel(string trainerName, Sequential network, NeuralTrainerOptions options, TrainingHistory? history, string? stopReason = null)
    : ITrainedModel
{
    private const int PayloadVersion = 1;

    public string TrainerName { get; } = trainerName;
    public Sequential Network { get; } = network;
    public NeuralTrainerOptions Options { get; } = options;
    public IReadOnlyDictionary<string, object> Hyperparameters => NeuralTrainerOptions.Schema.ToDictionary(Options);
    public TrainingHistory? History { get; } = history;
    /// <summary>Why training ended before its last epoch (early stopping), or null.</summary>
    public string? StopReason { get; } = stopReason;

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
    {
        if (Options.Tta > 0)
            new TestTimeAugmentation(Options.Tta, Options.Seed).PredictProbabilities(data, probabilities, (view, p) => Network.PredictProbabilities(view, p));
        else
            Network.PredictProbabilities(data, probabilities);
    }

    public void WritePayload(BinaryWriter writer)
    {
        writer.Write(PayloadVersion);
        NeuralTrainerOptions.Schema.Write(writer, Options);
        writer.Write(Network.InputShape.Height);
        writer.Write(Network.InputShape.Width);
        writer.Write(Network.InputShape.Channels);
        writer.Write(Network.Layers.Count);
        foreach (var layer in Network.Layers) layer.WriteConfig(writer);
        foreach (var values in Network.Parameters.Select(p => p.Value).Concat(Network.Layers.SelectMany(l => l.State)))
        {
            writer.Write(values.Length);
            foreach (float v in values) writer.Write(v);
        }
    }

    /// <summary>
    /// Reads a payload written by <see cref="WritePayload"/>, the hyperparameters through <paramref name="schema"/>
    /// (the trainer's, with its defaults); malformed content raises <see cref="InvalidDataException"/>.
    /// </summary>
    public static NeuralModel Load(string trainerName, HyperparameterSchema<NeuralTrainerOptions> schema, BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != PayloadVersion) throw new InvalidDataException($"unsupported network payload version {version}");
        var options = schema.Read(reader);
        var input = new TensorShape(ReadBounded(reader, 1, 4096), ReadBounded(reader, 1, 4096), ReadBounded(reader, 1, 4096));
        int count = ReadBounded(reader, 1, 1000);
        var layers = new Layer[count];
        for (int i = 0; i < count; i++) layers[i] = ReadLayer(reader);
        var network = new Sequential(input, layers).Build(seed: 0);
        foreach (var values in network.Parameters.Select(p => p.Value).Concat(network.Layers.SelectMany(l => l.State)))
        {
            int length = reader.ReadInt32();
            if (length != values.Length) throw new InvalidDataException($"a tensor of {length} values where the architecture needs {values.Length}");
            for (int j = 0; j < length; j++) values[j] = reader.ReadSingle();
        }
        return new NeuralModel(trainerName, network, options, history: null);
    }

    private static Layer ReadLayer(BinaryReader reader)
    {
        string kind = reader.ReadString();
        return kind switch
        {
            nameof(Dense) => new Dense(ReadBounded(reader, 1, 1 << 16)),
            nameof(Conv2D) => new Conv2D(ReadBounded(reader, 1, 4096), ReadBounded(reader, 1, 64), (Padding)ReadBounded(reader, 0, 1)),
            nameof(MaxPool2D) => new MaxPool2D(ReadBounded(reader, 1, 64)),
            nameof(Relu) => new Relu(),
            nameof(Flatten) => new Flatten(),
            nameof(Dropout) => new Dropout(ReadFraction(reader)),
            nameof(BatchNorm) => new BatchNorm(ReadFraction(reader), reader.ReadDouble()),
            _ => throw new InvalidDataException($"unknown layer kind '{kind}'"),
        };
    }

    private static int ReadBounded(BinaryReader reader, int min, int max)
    {
        int value = reader.ReadInt32();
        if (value < min || value > max) throw new InvalidDataException($"value {value} is outside {min}..{max}");
        return value;
    }

    private static double ReadFraction(BinaryReader reader)
    {
        double value = reader.ReadDouble();
        if (!(value >= 0 && value < 1)) throw new InvalidDataException($"value {value} is outside [0, 1)");
        return value;
    }
}
