using Mnist.Core.Training;

namespace Mnist.Baselines.KernelSvm;

/// <summary>Hyperparameters of <see cref="KernelSvmTrainer"/>, declared once in <see cref="Schema"/>.</summary>
public sealed record KernelSvmOptions
{
    /// <summary>
    /// γ of the RBF kernel exp(−γ‖a − b‖²) on pixels in [0,1]. Chosen on the runner's 10% validation split of
    /// full MNIST (C = 5): 0.02 → 98.08%, 0.025 → 98.22%, 0.03 → 98.27%, 0.035 → 98.18%.
    /// </summary>
    public double Gamma { get; init; } = 0.03;

    /// <summary>C of each binary C-SVC (box constraint 0 ≤ α ≤ C); at γ = 0.025, C = 2.5, 5, 10 validate within 0.03%.</summary>
    public double C { get; init; } = 5;

    /// <summary>libsvm's ε: stop a binary problem when its maximal KKT violation gap is below this.</summary>
    public double Tolerance { get; init; } = 1e-3;

    /// <summary>Cap on SMO steps per binary problem (libsvm has none; a warning-free safety net).</summary>
    public int MaxIterations { get; init; } = 2_000_000;

    public static HyperparameterSchema<KernelSvmOptions> Schema { get; } = new HyperparameterSchema<KernelSvmOptions>(new())
        .Double("gamma", o => o.Gamma, (o, v) => o with { Gamma = v }, "γ of the RBF kernel exp(−γ‖a − b‖²) on pixels in [0, 1]", above: 0)
        .Double("c", o => o.C, (o, v) => o with { C = v }, "C of each binary C-SVC (box constraint 0 ≤ α ≤ C)", above: 0)
        .Double("tolerance", o => o.Tolerance, (o, v) => o with { Tolerance = v }, "libsvm's ε: stop a binary problem when its KKT gap is below this", above: 0)
        .Int("max-iterations", o => o.MaxIterations, (o, v) => o with { MaxIterations = v }, "cap on SMO steps per binary problem", min: 1);
}
