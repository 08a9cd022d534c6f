namespace Mnist.Core.Training.Ensembles;

/// <summary>Registers the <c>ensemble</c> trainer, whose members come from the same catalog.</summary>
internal static class EnsembleCatalog
{
    /// <summary>The catalog name of the ensemble trainer.</summary>
    public const string Name = "ensemble";

    /// <summary>The registration of the ensemble over <paramref name="catalog"/>'s trainers (see <see cref="TrainerCatalog.AddEnsemble"/>).</summary>
    public static TrainerRegistration Registration(TrainerCatalog catalog) => TrainerRegistration.For(Name,
        "Soft vote (mean class probabilities) of catalog trainers, e.g. members=cnn*5; one derived seed and one checkpoint per member",
        EnsembleOptions.Schema,
        options => new EnsembleTrainer(catalog, options),
        reader => EnsembleModel.Load(catalog, Name, reader));
}
