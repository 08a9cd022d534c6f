using Mnist.Baselines.Common;
using Mnist.Core.Training;

namespace Mnist.Baselines.Knn;

/// <summary>Hyperparameters of <see cref="KnnTrainer"/>; keys of <see cref="ToDictionary"/> are the --param names.</summary>
public sealed record KnnOptions
{
    public const string KName = "k";
    public const string WeightingName = "weighting";
    public const string PcaComponentsName = "pca-components";
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

    public static KnnOptions FromParameters(TrainerParameters parameters)
    {
        var defaults = new KnnOptions();
        var options = new KnnOptions
        {
            K = parameters.Int(KName, defaults.K),
            Weighting = parameters.String(WeightingName, defaults.Weighting).ToLowerInvariant(),
            PcaComponents = parameters.Int(PcaComponentsName, defaults.PcaComponents),
        };
        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (K < 1 || K > MaxK) throw new ArgumentException($"Hyperparameter '{KName}' must be in 1..{MaxK}, not {K}.");
        if (Weighting is not (Uniform or Distance))
            throw new ArgumentException($"Hyperparameter '{WeightingName}' must be '{Uniform}' or '{Distance}', not '{Weighting}'.");
        if (PcaComponents < 0 || PcaComponents > 1 << 16)
            throw new ArgumentException($"Hyperparameter '{PcaComponentsName}' must be 0 (off) or a positive component count, not {PcaComponents}.");
    }

    public IReadOnlyDictionary<string, object> ToDictionary() => new Dictionary<string, object>
    {
        [KName] = K,
        [WeightingName] = Weighting,
        [PcaComponentsName] = PcaComponents,
    };

    internal void Write(BinaryWriter writer)
    {
        writer.Write(K);
        writer.Write(Weighting);
        writer.Write(PcaComponents);
    }

    internal static KnnOptions Read(BinaryReader reader)
    {
        var options = new KnnOptions { K = reader.ReadInt32(), Weighting = reader.ReadString(), PcaComponents = reader.ReadInt32() };
        return PayloadOptions.Validated(options, o => o.Validate());
    }
}
