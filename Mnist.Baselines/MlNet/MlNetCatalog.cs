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
            catalog.Add(new TrainerRegistration(
                algorithm.Name,
                algorithm.Description,
                parameters => new MlNetTrainer(algorithm, algorithm.Resolve(parameters)),
                reader => MlNetModel.Load(algorithm, reader))
            {
                Engine = MlNetTrainer.EngineName,
            });
        }
        return catalog;
    }
}
