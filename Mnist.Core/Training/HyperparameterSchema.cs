using System.Text;
using System.Text.Json;

namespace Mnist.Core.Training;

/// <summary>
/// A trainer's hyperparameters without their options type: what the runner asks (does this trainer have
/// a parameter, which one is its seed) and what <c>mnist trainers</c> and help texts list.
/// </summary>
public interface IHyperparameterSchema
{
    /// <summary>Every hyperparameter in declaration order, with its default.</summary>
    IReadOnlyList<Hyperparameter> Parameters { get; }

    /// <summary>The hyperparameter called <paramref name="name"/> (case-insensitive), or null.</summary>
    Hyperparameter? Find(string name);

    /// <summary>The hyperparameter marked as the random seed, or null when the trainer has none.</summary>
    Hyperparameter? Seed => Parameters.FirstOrDefault(p => p.IsSeed);
}

/// <summary>
/// The one declaration of a trainer's hyperparameters (scikit-learn's <c>get_params</c>/<c>set_params</c>),
/// over the trainer's immutable options record. Parsing <c>--param</c> text, range checks, the typed
/// dictionary of results.json, the hyperparameter block of model files and help texts all derive from it.
/// Defaults are the values of the record passed to the constructor. Immutable: each declaration returns a
/// new schema, so a published one cannot be changed by its users.
/// </summary>
/// <example>
/// <code>
/// public sealed record MyOptions
/// {
///     public double L2 { get; init; } = 1e-4;
///     public int Epochs { get; init; } = 10;
///     public Loss Loss { get; init; } = Loss.Hinge;
///     public int Seed { get; init; } = 42;
///
///     public static HyperparameterSchema&lt;MyOptions&gt; Schema { get; } = new HyperparameterSchema&lt;MyOptions&gt;(new())
///         .Double("l2", o => o.L2, (o, v) => o with { L2 = v }, "L2 penalty", min: 0)
///         .Int("epochs", o => o.Epochs, (o, v) => o with { Epochs = v }, "passes over the data", min: 1)
///         .Choice("loss", o => o.Loss, (o, v) => o with { Loss = v }, "the loss", ("hinge", Loss.Hinge), ("log", Loss.Log))
///         .Seed(o => o.Seed, (o, v) => o with { Seed = v });
/// }
///
/// // The catalog entry: the registration parses overrides through the schema and hands the options to the factory.
/// catalog.Add(TrainerRegistration.For("mine", "My trainer", MyOptions.Schema, o => new MyTrainer(o), MyModel.Load));
///
/// // In the trainer and its model:
/// public IReadOnlyDictionary&lt;string, object&gt; Hyperparameters => MyOptions.Schema.ToDictionary(Options);
/// MyOptions.Schema.Write(writer, Options);            // in WritePayload
/// var options = MyOptions.Schema.Read(reader);        // in Load
/// </code>
/// </example>
public sealed class HyperparameterSchema<TOptions> : IHyperparameterSchema where TOptions : class
{
    private sealed record Binding(Hyperparameter Parameter, Func<TOptions, object> Get, Func<TOptions, object, TOptions> Set);

    private readonly IReadOnlyList<Binding> _bindings;

    /// <param name="defaults">The options whose values are the defaults (usually <c>new TOptions()</c>).</param>
    public HyperparameterSchema(TOptions defaults) : this(defaults, []) { }

    private HyperparameterSchema(TOptions defaults, IReadOnlyList<Binding> bindings)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        Defaults = defaults;
        _bindings = bindings;
    }

    /// <summary>The options with every hyperparameter at its default.</summary>
    public TOptions Defaults { get; }

    /// <summary>The declared hyperparameters, in declaration order.</summary>
    public IReadOnlyList<Hyperparameter> Parameters => _bindings.Select(b => b.Parameter).ToList();

    /// <summary>The hyperparameter named <paramref name="name"/>, or null.</summary>
    public Hyperparameter? Find(string name) => FindBinding(name)?.Parameter;

    /// <summary>Declares an integer in [<paramref name="min"/>, <paramref name="max"/>] (either end open when null).</summary>
    public HyperparameterSchema<TOptions> Int(string name, Func<TOptions, int> get, Func<TOptions, int, TOptions> set, string doc, int? min = null, int? max = null) =>
        Add(new Hyperparameter(name, HyperparameterType.Int, doc, get(Defaults), lower: min, upper: max), o => get(o), (o, v) => set(o, (int)v));

    /// <summary>Declares the random seed (an int; a run's <c>--seed</c> sets it unless <c>--param</c> does).</summary>
    public HyperparameterSchema<TOptions> Seed(Func<TOptions, int> get, Func<TOptions, int, TOptions> set, string doc = "seed of the trainer's random choices", string name = "seed") =>
        Add(new Hyperparameter(name, HyperparameterType.Int, doc, get(Defaults), isSeed: true), o => get(o), (o, v) => set(o, (int)v));

    /// <summary>
    /// Declares a finite double. <paramref name="min"/> / <paramref name="max"/> are inclusive bounds,
    /// <paramref name="above"/> / <paramref name="below"/> exclusive ones (give at most one of each pair).
    /// </summary>
    public HyperparameterSchema<TOptions> Double(string name, Func<TOptions, double> get, Func<TOptions, double, TOptions> set, string doc,
        double? min = null, double? max = null, double? above = null, double? below = null)
    {
        if ((min is not null && above is not null) || (max is not null && below is not null))
            throw new ArgumentException($"Hyperparameter '{name}': give min or above, max or below, not both.");
        return Add(new Hyperparameter(name, HyperparameterType.Double, doc, get(Defaults),
            lower: min ?? above, lowerInclusive: above is null, upper: max ?? below, upperInclusive: below is null), o => get(o), (o, v) => set(o, (double)v));
    }

    /// <summary>Declares a boolean ("true" or "false").</summary>
    public HyperparameterSchema<TOptions> Bool(string name, Func<TOptions, bool> get, Func<TOptions, bool, TOptions> set, string doc) =>
        Add(new Hyperparameter(name, HyperparameterType.Bool, doc, get(Defaults)), o => get(o), (o, v) => set(o, (bool)v));

    /// <summary>
    /// Declares free text (non-empty, trimmed) whose own syntax the trainer checks when it is created, e.g. an
    /// ensemble's member list; the schema only stores and echoes it.
    /// </summary>
    public HyperparameterSchema<TOptions> Text(string name, Func<TOptions, string> get, Func<TOptions, string, TOptions> set, string doc) =>
        Add(new Hyperparameter(name, HyperparameterType.Text, doc, get(Defaults)), o => get(o), (o, v) => set(o, (string)v));

    /// <summary>Declares a choice among named values (an enum, say): the names are what users type and files store.</summary>
    public HyperparameterSchema<TOptions> Choice<TValue>(string name, Func<TOptions, TValue> get, Func<TOptions, TValue, TOptions> set, string doc,
        params (string Name, TValue Value)[] choices)
    {
        if (choices.Length == 0 || choices.Select(c => c.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != choices.Length)
            throw new ArgumentException($"Hyperparameter '{name}' needs distinct choice names.");
        var comparer = EqualityComparer<TValue>.Default;
        string NameOf(TValue value) => choices.FirstOrDefault(c => comparer.Equals(c.Value, value)).Name
            ?? throw new ArgumentException($"Hyperparameter '{name}' has no choice for the value {value}.");
        TValue ValueOf(string choice) => choices.First(c => c.Name == choice).Value;
        return Add(new Hyperparameter(name, HyperparameterType.Choice, doc, NameOf(get(Defaults)), choices: choices.Select(c => c.Name).ToArray()),
            o => NameOf(get(o)), (o, v) => set(o, ValueOf((string)v)));
    }

    /// <summary>Declares a choice among names stored as strings (case-insensitive on input, stored in the declared spelling).</summary>
    public HyperparameterSchema<TOptions> Choice(string name, Func<TOptions, string> get, Func<TOptions, string, TOptions> set, string doc, params string[] choices) =>
        Choice<string>(name, get, set, doc, choices.Select(c => (c, c)).ToArray());

    /// <summary>The same declarations with other defaults (one options record shared by several trainers).</summary>
    public HyperparameterSchema<TOptions> WithDefaults(TOptions defaults) =>
        new(defaults, _bindings.Select(b => b with { Parameter = b.Parameter.WithDefault(b.Get(defaults)) }).ToList());

    /// <summary>
    /// The defaults with <paramref name="overrides"/> (name → text, names case-insensitive) applied and every value checked.
    /// An unknown name or a bad value is an <see cref="ArgumentException"/> naming it; <paramref name="trainerName"/> names the owner in messages.
    /// </summary>
    public TOptions Parse(IReadOnlyDictionary<string, string>? overrides, string? trainerName = null)
    {
        var options = Defaults;
        if (overrides is null) return Validate(options);
        var unknown = overrides.Keys.Where(k => FindBinding(k) is null).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{(trainerName is null ? "The trainer" : $"Trainer '{trainerName}'")} has no hyperparameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}" +
                                        (_bindings.Count == 0 ? " (it has none)." : $" (it has: {string.Join(", ", _bindings.Select(b => b.Parameter.Name))})."));
        foreach (var (name, text) in overrides)
        {
            var binding = FindBinding(name)!;
            options = binding.Set(options, binding.Parameter.Parse(text));
        }
        return Validate(options);
    }

    /// <summary>Returns <paramref name="options"/> after checking every value's range; a bad one is an <see cref="ArgumentException"/>.</summary>
    public TOptions Validate(TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var binding in _bindings) binding.Parameter.Check(binding.Get(options));
        return options;
    }

    /// <summary>Name → typed value (int, double, bool, choice name, text) in declaration order: <see cref="ITrainer.Hyperparameters"/> and results.json.</summary>
    public IReadOnlyDictionary<string, object> ToDictionary(TOptions options)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var binding in _bindings) values[binding.Parameter.Name] = binding.Get(options);
        return values;
    }

    /// <summary>The options as a JSON object of typed values (ints stay ints).</summary>
    public string ToJson(TOptions options)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var binding in _bindings) Hyperparameter.WriteJson(writer, binding.Parameter.Name, binding.Get(options));
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Reads <see cref="ToJson"/>'s object back through the declarations: an unknown name, a value of the
    /// wrong type or out of range is an <see cref="InvalidDataException"/>; a missing name keeps its default.
    /// </summary>
    public TOptions FromJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException("the hyperparameters are not a JSON object");
            var options = Defaults;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var binding = FindBinding(property.Name) ?? throw new InvalidDataException($"unknown hyperparameter '{property.Name}'");
                options = binding.Set(options, binding.Parameter.ReadJson(property.Value));
            }
            return Validate(options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"malformed hyperparameters ({e.Message})", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    /// <summary>Writes the options as <see cref="ToJson"/> text (the hyperparameter block of a model payload).</summary>
    public void Write(BinaryWriter writer, TOptions options) => writer.Write(ToJson(options));

    /// <summary>Reads what <see cref="Write"/> wrote (see <see cref="FromJson"/>).</summary>
    public TOptions Read(BinaryReader reader) => FromJson(reader.ReadString());

    private HyperparameterSchema<TOptions> Add(Hyperparameter parameter, Func<TOptions, object> get, Func<TOptions, object, TOptions> set)
    {
        if (FindBinding(parameter.Name) is not null) throw new ArgumentException($"Hyperparameter '{parameter.Name}' is declared twice.");
        if (parameter.IsSeed && _bindings.Any(b => b.Parameter.IsSeed)) throw new ArgumentException("Only one hyperparameter can be the seed.");
        return new HyperparameterSchema<TOptions>(Defaults, [.. _bindings, new Binding(parameter, get, set)]);
    }

    private Binding? FindBinding(string name) =>
        _bindings.FirstOrDefault(b => b.Parameter.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>The schema of a trainer without hyperparameters.</summary>
public static class HyperparameterSchema
{
    /// <summary>Options of a trainer that has no hyperparameters.</summary>
    public sealed record NoOptions;

    /// <summary>No hyperparameters at all.</summary>
    public static HyperparameterSchema<NoOptions> Empty { get; } = new(new NoOptions());
}
