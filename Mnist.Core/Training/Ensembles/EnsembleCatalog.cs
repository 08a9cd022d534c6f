namespace Mnist.Core.Training.Ensembles;

/// <summary>Registers the <c>ensemble</c> trainer, whose members come from the same catalog.</summary>
public static class EnsembleCatalog
{
    public const string Name = "ensemble";

    /// <summary>
    /// Adds the ensemble to <paramref name="catalog"/>. Register it after the trainers it may combine: the
    /// member list is checked against the catalog when an ensemble is created or loaded.
    /// </summary>
    public static TrainerCatalog AddEnsemble(this TrainerCatalog catalog) => catalog.Add(TrainerRegistration.For(Name,
        "Soft vote (mean class probabilities) of catalog trainers, e.g. members=cnn*5; one derived seed and one checkpoint per member",
        EnsembleOptions.Schema,
        options => new EnsembleTrainer(catalog, options),
        reader => EnsembleModel.Load(catalog, Name, reader)));
}
