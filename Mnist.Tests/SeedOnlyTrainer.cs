using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Tests;

/// <summary>
/// A trainer whose only hyperparameter is a seed, for tests of what runs around a fit: Fit calls <c>onFit</c>(seed)
/// (to record it, or to press Ctrl+C) and then honours the cancellation token; its model says class 0 for every image
/// and calls <c>onPredict</c>(image count) on each prediction. It writes no model file.
/// </summary>
internal sealed class SeedOnlyTrainer(string name, int seed, Action<int>? onFit, Action<int>? onPredict) : ITrainer
{
    private sealed record Options
    {
        public int Seed { get; init; }
        public static HyperparameterSchema<Options> Schema { get; } = new HyperparameterSchema<Options>(new()).Seed(o => o.Seed, (o, v) => o with { Seed = v });
    }

    public static TrainerRegistration Registration(string name, Action<int>? onFit = null, Action<int>? onPredict = null) =>
        TrainerRegistration.For(name, "a seed, and class 0 for every image (test trainer)", Options.Schema,
            options => new SeedOnlyTrainer(name, options.Seed, onFit, onPredict), _ => throw new NotSupportedException());

    public string Name => name;
    public IReadOnlyDictionary<string, object> Hyperparameters => Options.Schema.ToDictionary(new Options { Seed = seed });

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        onFit?.Invoke(seed);
        cancellationToken.ThrowIfCancellationRequested();
        return new ClassZeroModel(name, Hyperparameters, onPredict);
    }

    private sealed class ClassZeroModel(string trainerName, IReadOnlyDictionary<string, object> hyperparameters, Action<int>? onPredict) : ITrainedModel
    {
        public string TrainerName => trainerName;
        public IReadOnlyDictionary<string, object> Hyperparameters => hyperparameters;
        public void WritePayload(BinaryWriter writer) => throw new NotSupportedException();

        public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
        {
            onPredict?.Invoke(data.Count);
            probabilities[..(data.Count * DigitDataView.ClassCount)].Clear();
            for (int i = 0; i < data.Count; i++) probabilities[i * DigitDataView.ClassCount] = 1f;
        }
    }
}
