using Mnist.Core.Training;

namespace Mnist.Runner.Compare;

/// <summary>Turns --trainers and --param into created trainers, reporting any mistake as a <see cref="UsageException"/>.</summary>
public static class TrainerSelection
{
    /// <summary>The --trainers value that selects every catalog trainer.</summary>
    public const string AllTrainers = "all";

    /// <summary>
    /// The chosen trainer names in catalog spelling, in the order given (duplicates dropped); the catalog's
    /// default set (<see cref="TrainerRegistration.RunsByDefault"/>) when <paramref name="requested"/> is empty,
    /// every trainer for "all". Accepts comma-separated lists.
    /// </summary>
    public static IReadOnlyList<string> ResolveNames(TrainerCatalog catalog, IEnumerable<string> requested)
    {
        var names = requested
            .SelectMany(r => r.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        if (names.Count == 0) return catalog.Registrations.Where(r => r.RunsByDefault).Select(r => r.Name).ToList();
        if (names is [var only] && only.Equals(AllTrainers, StringComparison.OrdinalIgnoreCase)) return catalog.Names.ToList();
        var result = new List<string>();
        foreach (string name in names)
        {
            var registration = catalog.TryFind(name)
                ?? throw new UsageException($"unknown trainer '{name}'; known trainers: {KnownList(catalog)}");
            if (!result.Contains(registration.Name, StringComparer.OrdinalIgnoreCase)) result.Add(registration.Name);
        }
        return result;
    }

    /// <summary>
    /// Distributes --param overrides over the chosen trainers. "trainer.name=value" targets one
    /// trainer; "name=value" goes to the only chosen trainer, or, with several, to each chosen trainer
    /// that has that hyperparameter (an error when none has it). Targeted values win over untargeted ones.
    /// </summary>
    public static IReadOnlyDictionary<string, Dictionary<string, string>> AssignParameters(
        TrainerCatalog catalog, IReadOnlyList<string> trainers, IEnumerable<string> parameters)
    {
        var assigned = trainers.ToDictionary(t => t, _ => new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
        var targeted = new List<(string Trainer, string Name, string Value)>();
        var untargeted = new List<(string Name, string Value, string Text)>();
        foreach (string text in parameters)
        {
            int equals = text.IndexOf('=');
            if (equals <= 0 || string.IsNullOrWhiteSpace(text[..equals]))
                throw new UsageException($"--param '{text}' must look like name=value or trainer.name=value");
            string name = text[..equals].Trim();
            string value = text[(equals + 1)..].Trim();
            int dot = name.IndexOf('.');
            if (dot > 0 && catalog.TryFind(name[..dot]) is { } registration)
            {
                if (!assigned.ContainsKey(registration.Name))
                    throw new UsageException($"--param '{text}' targets trainer '{registration.Name}', which is not among the chosen trainers ({string.Join(", ", trainers)})");
                string parameter = name[(dot + 1)..];
                if (parameter.Length == 0) throw new UsageException($"--param '{text}' has no hyperparameter name after '{name[..dot]}.'");
                targeted.Add((registration.Name, parameter, value));
            }
            else
            {
                untargeted.Add((name, value, text));
            }
        }

        foreach (var (name, value, text) in untargeted)
        {
            if (trainers.Count == 0) throw new UsageException($"--param '{text}' given but there are no trainers to apply it to");
            var takers = trainers.Count == 1 ? trainers : trainers.Where(t => catalog.Find(t).Hyperparameters.Find(name) is not null).ToList();
            if (takers.Count == 0)
                throw new UsageException($"--param '{text}': none of the chosen trainers ({string.Join(", ", trainers)}) has a hyperparameter '{name}'");
            foreach (string trainer in takers) assigned[trainer][name] = value;
        }
        foreach (var (trainer, name, value) in targeted) assigned[trainer][name] = value;
        return assigned;
    }

    /// <summary>
    /// Creates each chosen trainer with its overrides; a bad name or value is a <see cref="UsageException"/>.
    /// With <paramref name="seed"/>, trainers whose schema declares a seed get it unless --param sets that hyperparameter.
    /// </summary>
    public static IReadOnlyList<ITrainer> Create(TrainerCatalog catalog, IReadOnlyList<string> trainers, IEnumerable<string> parameters, int? seed = null)
    {
        var assigned = AssignParameters(catalog, trainers, parameters);
        var result = new List<ITrainer>();
        foreach (string name in trainers)
        {
            if (seed is int s && catalog.Find(name).Hyperparameters.Seed is { } seedParameter && !assigned[name].ContainsKey(seedParameter.Name))
                assigned[name][seedParameter.Name] = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                result.Add(catalog.Create(name, assigned[name]));
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--param for trainer '{name}': {e.Message}");
            }
        }
        return result;
    }

    private static string KnownList(TrainerCatalog catalog) =>
        catalog.Registrations.Count == 0 ? "(none; this build has an empty catalog)" : string.Join(", ", catalog.Names);
}
