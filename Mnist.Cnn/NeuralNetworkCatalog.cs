using Mnist.Cnn.Layers;
using Mnist.Cnn.Training;
using Mnist.Core.Training;

namespace Mnist.Cnn;

/// <summary>Registers the neural trainers (mlp, cnn, cnn-small) in a <see cref="TrainerCatalog"/>.</summary>
public static class NeuralNetworkCatalog
{
    public static readonly NeuralTrainerOptions MlpDefaults = new() { Epochs = 20, BatchSize = 128, LearningRate = 1e-3, Schedule = LearningRateSchedule.Cosine };
    public static readonly NeuralTrainerOptions CnnDefaults = new() { Epochs = 20, BatchSize = 128, LearningRate = 2e-3, Schedule = LearningRateSchedule.OneCycle, Augment = true };
    public static readonly NeuralTrainerOptions CnnSmallDefaults = new() { Epochs = 6, BatchSize = 128, LearningRate = 2e-3, Schedule = LearningRateSchedule.OneCycle };

    public static TrainerCatalog AddNeuralNetworks(this TrainerCatalog catalog) => catalog
        .Add(Registration("mlp", "Multilayer perceptron pixels-256-256-10, ReLU, dropout", input => Architectures.Mlp(input), MlpDefaults))
        .Add(Registration("cnn", "Kaggle CNN: 2×Conv32 5×5, 2×Conv64 3×3, Dense 256, BatchNorm, dropout, augmentation", input => Architectures.Cnn(input), CnnDefaults))
        .Add(Registration("cnn-small", "Small CNN: Conv32 3×3, Conv64 3×3, Dense 128, for quick runs", input => Architectures.CnnSmall(input), CnnSmallDefaults));

    private static TrainerRegistration Registration(string name, string description, Func<TensorShape, Sequential> architecture, NeuralTrainerOptions defaults)
    {
        var schema = NeuralTrainerOptions.Schema.WithDefaults(defaults);
        return TrainerRegistration.For(name, description, schema,
            options => new NeuralTrainer(name, architecture, options),
            reader => NeuralModel.Load(name, schema, reader));
    }
}
