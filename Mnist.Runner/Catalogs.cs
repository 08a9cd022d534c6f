using Mnist.Baselines;
using Mnist.Baselines.MlNet;
using Mnist.Cnn;
using Mnist.Core.Training;

namespace Mnist.Runner;

/// <summary>The one place the runner's trainer catalog is assembled.</summary>
public static class Catalogs
{
    /// <summary>Every trainer this build ships, in report order: fast classical baselines first, ML.NET's trainers, the networks, then the ensemble of any of them.</summary>
    public static TrainerCatalog Default()
    {
        var catalog = new TrainerCatalog();
        catalog.AddBaselines();
        catalog.AddMlNetTrainers();
        catalog.AddNeuralNetworks();
        catalog.AddEnsemble();
        return catalog;
    }
}
