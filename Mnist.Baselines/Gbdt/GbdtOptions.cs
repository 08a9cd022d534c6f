using Mnist.Core.Training;

namespace Mnist.Baselines.Gbdt;

/// <summary>Hyperparameters of the histogram gradient-boosted trees trainer, declared once in <see cref="Schema"/>.</summary>
public sealed record GbdtOptions
{
    /// <summary>Boosting rounds; each round adds one tree per class.</summary>
    public int Rounds { get; init; } = 300;
    /// <summary>Shrinkage applied to every leaf value.</summary>
    public double LearningRate { get; init; } = 0.1;
    /// <summary>Maximum leaves per tree (leaf-wise, best-first growth).</summary>
    public int MaxLeaves { get; init; } = 31;
    /// <summary>Minimum number of training samples in a leaf (LightGBM's min_data_in_leaf).</summary>
    public int MinSamplesLeaf { get; init; } = 20;
    /// <summary>Minimum sum of hessians in a leaf (LightGBM's min_sum_hessian_in_leaf).</summary>
    public double MinHessianLeaf { get; init; } = 1e-3;
    /// <summary>L2 regularisation (lambda) on leaf values.</summary>
    public double L2 { get; init; } = 1.0;
    /// <summary>Fraction of the (non-constant) features each tree may split on, drawn per tree with the seed.</summary>
    public double FeatureFraction { get; init; } = 0.3;
    /// <summary>Stop when the validation log-loss has not improved for this many rounds (0 = off; needs a validation set).</summary>
    public int EarlyStoppingRounds { get; init; } = 20;
    /// <summary>Seeds the per-tree feature samples.</summary>
    public int Seed { get; init; } = 42;

    public static HyperparameterSchema<GbdtOptions> Schema { get; } = new HyperparameterSchema<GbdtOptions>(new())
        .Int("rounds", o => o.Rounds, (o, v) => o with { Rounds = v }, "boosting rounds (one tree per class each)", min: 1, max: 100_000)
        .Double("learning-rate", o => o.LearningRate, (o, v) => o with { LearningRate = v }, "shrinkage of every leaf value", above: 0, max: 10)
        .Int("max-leaves", o => o.MaxLeaves, (o, v) => o with { MaxLeaves = v }, "leaves per tree (leaf-wise, best-first growth)", min: 2, max: 1024)
        .Int("min-samples-leaf", o => o.MinSamplesLeaf, (o, v) => o with { MinSamplesLeaf = v }, "fewest training samples in a leaf", min: 1)
        .Double("min-hessian-leaf", o => o.MinHessianLeaf, (o, v) => o with { MinHessianLeaf = v }, "smallest sum of hessians in a leaf", min: 0)
        .Double("l2", o => o.L2, (o, v) => o with { L2 = v }, "L2 regularisation (lambda) of leaf values", min: 0)
        .Double("feature-fraction", o => o.FeatureFraction, (o, v) => o with { FeatureFraction = v }, "share of the features each tree may split on", above: 0, max: 1)
        .Int("early-stopping-rounds", o => o.EarlyStoppingRounds, (o, v) => o with { EarlyStoppingRounds = v },
            "stop when the validation log-loss has not improved for this many rounds (0 = off)", min: 0)
        .Seed(o => o.Seed, (o, v) => o with { Seed = v }, "seed of the per-tree feature samples");
}
