using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using Mnist.Cnn.Training;
using Mnist.Core.Training;

namespace Mnist.Cnn;

/// <summary>
/// Registers the neural trainers in a <see cref="TrainerCatalog"/>: mlp, cnn, cnn-vgg and cnn-small on our engine, and
/// torch-mlp, torch-cnn, torch-cnn-vgg and torch-cnn-small, the same networks with the same recipe on LibTorch.
/// </summary>
public static class NeuralNetworkCatalog
{
    public static readonly NeuralTrainerOptions MlpDefaults = new() { Epochs = 20, BatchSize = 128, LearningRate = 1e-3, Schedule = LearningRateSchedule.Cosine };
    /// <summary>Twelve epochs, the last on the original images: 99.62 % over seeds 42–45, a fit of about 6 minutes on 2 threads (README, "`cnn` speed").</summary>
    public static readonly NeuralTrainerOptions CnnDefaults = new() { Epochs = 12, CleanEpochs = 1, BatchSize = 128, LearningRate = 2e-3, Schedule = LearningRateSchedule.OneCycle, Augment = true };
    public static readonly NeuralTrainerOptions CnnSmallDefaults = new() { Epochs = 6, BatchSize = 128, LearningRate = 2e-3, Schedule = LearningRateSchedule.OneCycle };

    /// <summary>The prefix of the LibTorch trainers' names.</summary>
    private const string TorchPrefix = "torch-";

    public static TrainerCatalog AddNeuralNetworks(this TrainerCatalog catalog)
    {
        foreach (var backend in new[] { NeuralBackend.Own, NeuralBackend.Torch })
        {
            string prefix = backend == NeuralBackend.Torch ? TorchPrefix : "";
            string suffix = backend == NeuralBackend.Torch ? " (LibTorch)" : "";
            catalog
                .Add(Registration(prefix + "mlp", "Multilayer perceptron pixels-256-256-10, ReLU, dropout" + suffix, input => Architectures.Mlp(input), MlpDefaults, backend))
                .Add(Registration(prefix + "cnn", "Kaggle CNN: 2×Conv32 5×5, 2×Conv64 3×3, Dense 256, BatchNorm, dropout, augmentation" + suffix, input => Architectures.Cnn(input), CnnDefaults, backend))
                .Add(Registration(prefix + "cnn-vgg", "VGG-style CNN: 2×Conv32 3×3, 2×Conv64 3×3, Conv128 3×3, Dense 256, BatchNorm, dropout, augmentation" + suffix,
                    input => Architectures.CnnVgg(input), CnnDefaults, backend, runsByDefault: false))
                .Add(Registration(prefix + "cnn-small", "Small CNN: Conv32 3×3, Conv64 3×3, Dense 128, for quick runs" + suffix, input => Architectures.CnnSmall(input), CnnSmallDefaults, backend));
        }
        return catalog;
    }

    private static TrainerRegistration Registration(string name, string description, Func<TensorShape, NetworkSpec> architecture, NeuralTrainerOptions defaults, NeuralBackend backend,
        bool runsByDefault = true)
    {
        var schema = NeuralTrainerOptions.Schema.WithDefaults(defaults);
        return TrainerRegistration.For(name, description, schema,
            options => new NeuralTrainer(name, architecture, options, backend),
            reader => NeuralModel.Load(name, backend, reader), backend.EngineName(),
            // The LibTorch twins repeat our networks on another engine (torch-cnn alone is ~20 min), and cnn-vgg is a
            // second ~10-minute CNN for ensembles: they run when named.
            runsByDefault: runsByDefault && backend == NeuralBackend.Own);
    }
}
