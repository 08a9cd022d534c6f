using Mnist.Core.Training;

namespace Mnist.Baselines.Gbdt;

/// <summary>The catalog entry of the histogram gradient-boosted trees trainer ("gbdt").</summary>
public static class GbdtRegistration
{
    public const string Name = "gbdt";

    /// <summary>Defaults that reach ≥ 97.5 % test accuracy on full MNIST within the time budget.</summary>
    public static GbdtOptions Defaults { get; } = new();

    public static TrainerRegistration Registration { get; } = new(
        Name,
        "Histogram gradient-boosted trees (softmax, leaf-wise, exact byte bins), one tree per class per round",
        parameters => new GbdtTrainer(GbdtOptions.Read(parameters, Defaults)),
        GbdtModel.Read);
}
