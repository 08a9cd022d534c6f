namespace Mnist.Core.Training;

/// <summary>
/// How the catalog makes a trainer and reads back its models: a name, a one-line description, the
/// trainer's <see cref="IHyperparameterSchema"/>, a factory and a model-payload reader. Build one with
/// <see cref="For{TOptions}"/>, which parses overrides through the schema before calling the factory.
/// </summary>
public sealed class TrainerRegistration
{
    private readonly Func<IReadOnlyDictionary<string, string>?, ITrainer> _create;
    private readonly Func<BinaryReader, ITrainedModel> _loadModel;

    private TrainerRegistration(string name, string description, IHyperparameterSchema hyperparameters,
        Func<IReadOnlyDictionary<string, string>?, ITrainer> create, Func<BinaryReader, ITrainedModel> loadModel)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Description = description;
        Hyperparameters = hyperparameters;
        _create = create;
        _loadModel = loadModel;
    }

    /// <param name="name">Catalog name, e.g. "logreg".</param>
    /// <param name="description">One line for help texts and reports.</param>
    /// <param name="schema">The trainer's hyperparameters.</param>
    /// <param name="create">Builds the trainer from parsed, checked options.</param>
    /// <param name="loadModel">Reads a model payload written by <see cref="ITrainedModel.WritePayload"/>.</param>
    /// <param name="engine">The engine that does the numerical work, named in reports: <see cref="OwnEngine"/> or, e.g., "ML.NET 5.0.1".</param>
    /// <param name="runsByDefault">Whether a run that names no trainers includes this one (false for, e.g., a second engine's twin of a slow network).</param>
    public static TrainerRegistration For<TOptions>(string name, string description, HyperparameterSchema<TOptions> schema,
        Func<TOptions, ITrainer> create, Func<BinaryReader, ITrainedModel> loadModel, string engine = OwnEngine, bool runsByDefault = true) where TOptions : class =>
        new(name, description, schema, overrides => create(schema.Parse(overrides, name)), loadModel) { Engine = engine, RunsByDefault = runsByDefault };

    /// <summary>Our own engine (Mnist.Core's compute core).</summary>
    public const string OwnEngine = "own";

    /// <summary>The catalog name, e.g. "logreg".</summary>
    public string Name { get; }
    /// <summary>One line for <c>mnist trainers</c>.</summary>
    public string Description { get; }
    /// <summary>The engine that does the numerical work, named in reports.</summary>
    public string Engine { get; private init; } = OwnEngine;
    /// <summary>Whether a run that names no trainers includes this one; every trainer runs when named.</summary>
    public bool RunsByDefault { get; private init; } = true;
    /// <summary>The trainer's declared hyperparameters.</summary>
    public IHyperparameterSchema Hyperparameters { get; }

    /// <summary>Builds the trainer from hyperparameter overrides (name → text; defaults for those not given); a bad name or value is an <see cref="ArgumentException"/>.</summary>
    public ITrainer Create(IReadOnlyDictionary<string, string>? overrides = null) => _create(overrides);

    /// <summary>Reads a model payload written by <see cref="ITrainedModel.WritePayload"/>.</summary>
    public ITrainedModel LoadModel(BinaryReader reader) => _loadModel(reader);
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

    /// <summary>The registered names, in registration order.</summary>
    public IEnumerable<string> Names => _registrations.Select(r => r.Name);

    /// <summary>
    /// Adds the <c>ensemble</c> trainer: a soft vote (mean class probabilities) over members taken from this
    /// catalog, e.g. <c>members=cnn*5</c>. Add it after the trainers it may combine: the member list is checked
    /// against the catalog when an ensemble is created or loaded.
    /// </summary>
    public TrainerCatalog AddEnsemble() => Add(Ensembles.EnsembleCatalog.Registration(this));

    /// <summary>Registers a trainer; a name already registered (ignoring case) is an <see cref="ArgumentException"/>.</summary>
    public TrainerCatalog Add(TrainerRegistration registration)
    {
        if (TryFind(registration.Name) is not null)
            throw new ArgumentException($"A trainer named '{registration.Name}' is already registered.");
        _registrations.Add(registration);
        return this;
    }

    /// <summary>The registration named <paramref name="name"/> (ignoring case), or null.</summary>
    public TrainerRegistration? TryFind(string name) =>
        _registrations.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The registration named <paramref name="name"/> (ignoring case); an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public TrainerRegistration Find(string name) =>
        TryFind(name) ?? throw new ArgumentException($"Unknown trainer '{name}'. Known trainers: {string.Join(", ", Names)}.");

    /// <summary>Creates a trainer by name, with hyperparameter overrides; unknown names are an error.</summary>
    public ITrainer Create(string name, IReadOnlyDictionary<string, string>? hyperparameters = null) => Find(name).Create(hyperparameters);
}
