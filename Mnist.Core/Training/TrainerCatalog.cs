namespace Mnist.Core.Training;

/// <summary>How the catalog makes a trainer and reads back its models.</summary>
/// <param name="Name">Catalog name, e.g. "logreg".</param>
/// <param name="Description">One line for help texts and reports.</param>
/// <param name="Create">Builds the trainer from hyperparameter overrides (defaults for those not given).</param>
/// <param name="LoadModel">Reads a model payload written by <see cref="ITrainedModel.WritePayload"/>.</param>
public sealed record TrainerRegistration(
    string Name,
    string Description,
    Func<TrainerParameters, ITrainer> Create,
    Func<BinaryReader, ITrainedModel> LoadModel)
{
    /// <summary>The engine that does the numerical work, named in reports: <see cref="OwnEngine"/> or, e.g., "ML.NET 5.0.1".</summary>
    public string Engine { get; init; } = OwnEngine;

    /// <summary>Our own engine (Mnist.Core's compute core).</summary>
    public const string OwnEngine = "own";
}

/// <summary>
/// Finds trainers by name (ML.NET's catalog). Each trainer assembly adds its own registrations
/// (for example <c>catalog.AddBaselines()</c>), so Mnist.Core stays free of trainer code.
/// </summary>
public sealed class TrainerCatalog
{
    private readonly List<TrainerRegistration> _registrations = [];

    /// <summary>Registered trainers in registration order.</summary>
    public IReadOnlyList<TrainerRegistration> Registrations => _registrations;

    public IEnumerable<string> Names => _registrations.Select(r => r.Name);

    public TrainerCatalog Add(TrainerRegistration registration)
    {
        if (TryFind(registration.Name) is not null)
            throw new ArgumentException($"A trainer named '{registration.Name}' is already registered.");
        _registrations.Add(registration);
        return this;
    }

    public TrainerRegistration? TryFind(string name) =>
        _registrations.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    public TrainerRegistration Find(string name) =>
        TryFind(name) ?? throw new ArgumentException($"Unknown trainer '{name}'. Known trainers: {string.Join(", ", Names)}.");

    /// <summary>Creates a trainer by name, with hyperparameter overrides; unknown names are an error.</summary>
    public ITrainer Create(string name, IReadOnlyDictionary<string, string>? hyperparameters = null)
    {
        var registration = Find(name);
        var parameters = new TrainerParameters(hyperparameters);
        var trainer = registration.Create(parameters);
        parameters.ThrowIfUnused(registration.Name);
        return trainer;
    }
}
