using Mnist.Core.Training;

namespace Mnist.Baselines.MlNet;

/// <summary>Registers ML.NET's own multiclass trainers as baselines beside ours.</summary>
public static class MlNetCatalog
{
    private static readonly MlNetAlgorithm[] Algorithms =
        [new MaxEntAlgorithm(), new SdcaAlgorithm(), new LinearSvmAlgorithm(), new FastTreeAlgorithm(), new LightGbmAlgorithm()];

    /// <summary>Adds "mlnet-maxent", "mlnet-sdca", "mlnet-linear-svm", "mlnet-fasttree" and "mlnet-lightgbm".</summary>
    public static TrainerCatalog AddMlNetTrainers(this TrainerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        foreach (var algorithm in Algorithms)
        {
            catalog.Add(TrainerRegistration.For(algorithm.Name, algorithm.Description, algorithm.Schema,
                values => new MlNetTrainer(algorithm, values), reader => MlNetModel.Load(algorithm, reader), MlNetTrainer.EngineName));
        }
        return catalog;
    }
}
