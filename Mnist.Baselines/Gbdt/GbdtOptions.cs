using Mnist.Core.Training;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// Hyperparameters of the histogram gradient-boosted trees trainer. The property names map to the
/// kebab-case names used by <c>--param</c>, grid search and results.json (see <see cref="ToDictionary"/>).
/// </summary>
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
    public int Seed { get; init; } = 42;

    public static GbdtOptions Read(TrainerParameters p, GbdtOptions defaults)
    {
        var options = new GbdtOptions
        {
            Rounds = p.Int("rounds", defaults.Rounds),
            LearningRate = p.Double("learning-rate", defaults.LearningRate),
            MaxLeaves = p.Int("max-leaves", defaults.MaxLeaves),
            MinSamplesLeaf = p.Int("min-samples-leaf", defaults.MinSamplesLeaf),
            MinHessianLeaf = p.Double("min-hessian-leaf", defaults.MinHessianLeaf),
            L2 = p.Double("l2", defaults.L2),
            FeatureFraction = p.Double("feature-fraction", defaults.FeatureFraction),
            EarlyStoppingRounds = p.Int("early-stopping-rounds", defaults.EarlyStoppingRounds),
            Seed = p.Int("seed", defaults.Seed),
        };
        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (Rounds < 1 || Rounds > 100_000) throw new ArgumentException("Hyperparameter 'rounds' must be in 1..100000.");
        if (!(LearningRate > 0 && LearningRate <= 10)) throw new ArgumentException("Hyperparameter 'learning-rate' must be in (0, 10].");
        if (MaxLeaves < 2 || MaxLeaves > 1024) throw new ArgumentException("Hyperparameter 'max-leaves' must be in 2..1024.");
        if (MinSamplesLeaf < 1) throw new ArgumentException("Hyperparameter 'min-samples-leaf' must be at least 1.");
        if (!(MinHessianLeaf >= 0) || double.IsInfinity(MinHessianLeaf)) throw new ArgumentException("Hyperparameter 'min-hessian-leaf' must be a non-negative number.");
        if (!(L2 >= 0) || double.IsInfinity(L2)) throw new ArgumentException("Hyperparameter 'l2' must be a non-negative number.");
        if (!(FeatureFraction > 0 && FeatureFraction <= 1)) throw new ArgumentException("Hyperparameter 'feature-fraction' must be in (0, 1].");
        if (EarlyStoppingRounds < 0) throw new ArgumentException("Hyperparameter 'early-stopping-rounds' must be 0 (off) or positive.");
    }

    public IReadOnlyDictionary<string, object> ToDictionary() => new Dictionary<string, object>
    {
        ["rounds"] = Rounds,
        ["learning-rate"] = LearningRate,
        ["max-leaves"] = MaxLeaves,
        ["min-samples-leaf"] = MinSamplesLeaf,
        ["min-hessian-leaf"] = MinHessianLeaf,
        ["l2"] = L2,
        ["feature-fraction"] = FeatureFraction,
        ["early-stopping-rounds"] = EarlyStoppingRounds,
        ["seed"] = Seed,
    };
}
