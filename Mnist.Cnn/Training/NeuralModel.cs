using Mnist.Cnn.Augmentation;
using Mnist.Cnn.Backends.Own;
using Mnist.Cnn.Callbacks;
using Mnist.Cnn.Networks;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Cnn.Training;

/// <summary>
/// A trained network: predicts in large batches on its backend and writes its architecture and weights to a
/// model file. The payload is the same for every backend (the spec, then one flat float array per parameter
/// and state tensor, in the host's order), so a model trained on LibTorch can be read into our engine.
/// </summary>
public sealed class NeuralModel : ITrainedModel
{
    private const int PayloadVersion = 1;
    private readonly NetworkSpec _spec;
    private INetwork? _network;

    /// <param name="weights">The layers holding the weights.</param>
    /// <param name="network">The backend's network over <paramref name="weights"/>, or null to compile it on first use (so loading a file never needs the backend).</param>
    internal NeuralModel(string trainerName, NetworkSpec spec, NeuralBackend backend, Sequential weights, INetwork? network, NeuralTrainerOptions options,
        TrainingHistory? history = null, string? stopReason = null)
    {
        (TrainerName, _spec, Backend, Network, _network) = (trainerName, spec, backend, weights, network);
        (Options, History, StopReason) = (options, history, stopReason);
    }

    public string TrainerName { get; }
    /// <summary>The layers holding the weights (whatever the backend), e.g. for ONNX export.</summary>
    public Sequential Network { get; }
    public NeuralBackend Backend { get; }
    public string Engine => Backend.EngineName();
    public NeuralTrainerOptions Options { get; }
    public IReadOnlyDictionary<string, object> Hyperparameters => NeuralTrainerOptions.Schema.ToDictionary(Options);
    public TrainingHistory? History { get; }
    /// <summary>Why training ended before its last epoch (early stopping), or null.</summary>
    public string? StopReason { get; }

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
    {
        if (_network is null)
        {
            Backend.EnsureAvailable($"the {TrainerName} model");
            _network = Backend.Bind(_spec, Network);
        }
        var network = _network;
        // The contract allows a longer buffer; test-time augmentation works out the row length from the one it is given.
        probabilities = probabilities[..(data.Count * Network.OutputShape.Size)];
        if (Options.Tta > 0)
            new TestTimeAugmentation(Options.Tta, Options.Seed).PredictProbabilities(data, probabilities, (view, p) => network.PredictProbabilities(view, p));
        else
            network.PredictProbabilities(data, probabilities);
        // A bulk prediction's buffers (a batch of every layer's output) would stay with the model; an ensemble
        // holds several models. Small predictions keep theirs, so predicting image by image allocates nothing per call.
        if (data.Count > NetworkPrediction.Batch) Network.ReleaseScratch();
    }

    public ITrainedModel WithTestTimeAugmentation(int variants) =>
        new NeuralModel(TrainerName, _spec, Backend, Network, _network, NeuralTrainerOptions.Schema.Validate(Options with { Tta = variants }), History, StopReason);

    public void WritePayload(BinaryWriter writer)
    {
        writer.Write(PayloadVersion);
        NeuralTrainerOptions.Schema.Write(writer, Options);
        _spec.Write(writer);
        foreach (var values in ModelWeights.Arrays(Network))
        {
            writer.Write(values.Length);
            foreach (float v in values) writer.Write(v);
        }
    }

    /// <summary>
    /// Reads a payload written by <see cref="WritePayload"/> for <paramref name="backend"/>; malformed content raises
    /// <see cref="InvalidDataException"/>. A file holds every hyperparameter of its day; one declared since then takes the
    /// base default of <see cref="NeuralTrainerOptions"/>, its "off" value, which is how that model was trained (not the
    /// trainer's current default: cnn's clean-epochs=1 would misdescribe a model saved before the option existed).
    /// </summary>
    internal static NeuralModel Load(string trainerName, NeuralBackend backend, BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != PayloadVersion) throw new InvalidDataException($"unsupported network payload version {version}");
        var options = NeuralTrainerOptions.Schema.Read(reader);
        var spec = NetworkSpec.Read(reader);
        // Each stored value takes 4 bytes: a network needing more than the payload holds is refused before it is allocated.
        long weightBudget = (reader.BaseStream.Length - reader.BaseStream.Position) / sizeof(float);
        var weights = OwnBackend.Build(spec, seed: 0, weightBudget: weightBudget, winograd: options.Winograd);
        foreach (var values in ModelWeights.Arrays(weights))
        {
            int length = reader.ReadInt32();
            if (length != values.Length) throw new InvalidDataException($"a tensor of {length} values where the architecture needs {values.Length}");
            for (int j = 0; j < length; j++)
            {
                values[j] = reader.ReadSingle();
                if (!float.IsFinite(values[j])) throw new InvalidDataException($"value {j} of a tensor of {length} is non-finite ({values[j]})");
            }
        }
        return new NeuralModel(trainerName, spec, backend, weights, network: null, options);
    }
}
