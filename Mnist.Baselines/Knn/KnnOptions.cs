using Mnist.Core.Training;

namespace Mnist.Baselines.Knn;

/// <summary>Hyperparameters of <see cref="KnnTrainer"/>, declared once in <see cref="Schema"/>.</summary>
public sealed record KnnOptions
{
    public const string Uniform = "uniform";
    public const string Distance = "distance";
    public const int MaxK = 1000;

    /// <summary>Neighbours that vote.</summary>
    public int K { get; init; } = 3;

    /// <summary>
    /// "uniform": one vote per neighbour; "distance": each neighbour votes 1/‖x − t‖ (when some neighbours are at
    /// distance 0, only those vote, equally).
    /// </summary>
    public string Weighting { get; init; } = Uniform;

    /// <summary>Project images onto this many principal components before searching (0 = raw pixels).</summary>
    public int PcaComponents { get; init; }

    /// <summary>The seed of the PCA eigen-solver's start block (fixed; not a hyperparameter).</summary>
    internal const int PcaSeed = 42;

    public static HyperparameterSchema<KnnOptions> Schema { get; } = new HyperparameterSchema<KnnOptions>(new())
        .Int("k", o => o.K, (o, v) => o with { K = v }, "neighbours that vote", min: 1, max: MaxK)
        .Choice("weighting", o => o.Weighting, (o, v) => o with { Weighting = v },
            "uniform: one vote per neighbour; distance: each votes 1/distance", Uniform, Distance)
        .Int("pca-components", o => o.PcaComponents, (o, v) => o with { PcaComponents = v },
            "project onto this many principal components before searching (0 = raw pixels)", min: 0, max: 1 << 16);
}
