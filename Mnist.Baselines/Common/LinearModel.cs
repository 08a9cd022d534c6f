using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.Common;

/// <summary>
/// A fitted linear classifier over raw pixels (scores = X·W + b; probabilities = their softmax), with its
/// options: what logistic regression's and the linear SVM's models share, payload included.
/// </summary>
/// <typeparam name="TOptions">The trainer's options, declared by <see cref="Schema"/>.</typeparam>
public abstract class LinearModel<TOptions> : ITrainedModel where TOptions : class
{
    /// <summary>2: the hyperparameters are a JSON block read through the schema.</summary>
    private const int PayloadVersion = 2;
    private protected readonly LinearWeights _weights;

    private protected LinearModel(TOptions options, LinearWeights weights, TrainingHistory? history)
    {
        (Options, _weights, History) = (options, weights, history);
    }

    /// <summary>The hyperparameters the model was fitted with.</summary>
    public TOptions Options { get; }
    /// <summary>The catalog name of the trainer.</summary>
    public abstract string TrainerName { get; }
    private protected abstract HyperparameterSchema<TOptions> Schema { get; }
    /// <inheritdoc />
    public IReadOnlyDictionary<string, object> Hyperparameters => Schema.ToDictionary(Options);
    /// <inheritdoc />
    public abstract bool HasCalibratedProbabilities { get; }
    /// <inheritdoc />
    public TrainingHistory? History { get; }

    /// <summary>Pixels per image the model expects.</summary>
    public int Features => _weights.Features;

    /// <summary>A copy of the weights (Features × 10, row-major; column k is class k's w).</summary>
    public float[] GetWeights() => (float[])_weights.Weights.Clone();

    /// <summary>A copy of the 10 biases.</summary>
    public float[] GetBias() => (float[])_weights.Bias.Clone();

    /// <inheritdoc />
    public void PredictProbabilities(DigitDataView data, Span<float> probabilities) => _weights.SoftmaxScores(data, probabilities);

    /// <inheritdoc />
    public void WritePayload(BinaryWriter writer)
    {
        writer.Write(PayloadVersion);
        Schema.Write(writer, Options);
        _weights.Write(writer);
    }

    /// <summary>Reads a payload written by <see cref="WritePayload"/>: the options through <paramref name="schema"/>, then the weights.</summary>
    private protected static (TOptions Options, LinearWeights Weights) ReadPayload(BinaryReader reader, HyperparameterSchema<TOptions> schema, string trainerName)
    {
        int version = reader.ReadInt32();
        if (version != PayloadVersion) throw new InvalidDataException($"Unsupported {trainerName} payload version {version}.");
        return (schema.Read(reader), LinearWeights.Read(reader));
    }
}
