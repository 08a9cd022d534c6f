namespace Mnist.Core.Training.Ensembles;

/// <summary>Hyperparameters of the <c>ensemble</c> trainer, declared once in <see cref="Schema"/>.</summary>
internal sealed record EnsembleOptions
{
    /// <summary>The members, in the syntax of <see cref="EnsembleMembers.Parse"/>, e.g. <c>cnn*5</c> or <c>cnn(epochs=3)*2,knn</c>.</summary>
    public string Members { get; init; } = "mlp*3";
    /// <summary>Test-time augmentation for every member that has a <c>tta</c> hyperparameter and does not set it itself; 0 leaves the members' own.</summary>
    public int Tta { get; init; }
    public int Seed { get; init; } = 42;

    public static HyperparameterSchema<EnsembleOptions> Schema { get; } = new HyperparameterSchema<EnsembleOptions>(new())
        .Text("members", o => o.Members, (o, v) => o with { Members = v },
            "trainers to soft-vote, comma- or +-separated: name[(param=value,...)][*count], e.g. cnn*5 or mlp(epochs=5),knn")
        .Int("tta", o => o.Tta, (o, v) => o with { Tta = v },
            "test-time augmentation variants for members with a tta hyperparameter that do not set it (0 = their own)", min: 0, max: EnsembleMembers.MaxTta)
        .Seed(o => o.Seed, (o, v) => o with { Seed = v }, "seed from which each member's own seed is derived");
}
