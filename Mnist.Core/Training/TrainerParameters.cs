using System.Globalization;

namespace Mnist.Core.Training;

/// <summary>
/// Hyperparameter overrides given by name (from <c>--param name=value</c>, a config file or a grid),
/// read by a trainer factory with typed defaults. Names nobody asked for are an error, so a typo in a
/// grid search never silently runs the default.
/// </summary>
public sealed class TrainerParameters
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);

    public TrainerParameters(IReadOnlyDictionary<string, string>? values = null)
    {
        _values = new Dictionary<string, string>(values ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
    }

    public static TrainerParameters Empty => new();

    public double Double(string name, double defaultValue) =>
        Read(name, defaultValue, s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));

    public int Int(string name, int defaultValue) =>
        Read(name, defaultValue, s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture));

    public bool Bool(string name, bool defaultValue) => Read(name, defaultValue, bool.Parse);

    public string String(string name, string defaultValue) => Read(name, defaultValue, s => s);

    /// <summary>Throws <see cref="ArgumentException"/> when a given name was never read by the factory.</summary>
    public void ThrowIfUnused(string trainerName)
    {
        var unused = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unused.Count > 0)
            throw new ArgumentException($"Trainer '{trainerName}' has no hyperparameter {string.Join(", ", unused.Select(u => $"'{u}'"))}.");
    }

    private T Read<T>(string name, T defaultValue, Func<string, T> parse)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var text)) return defaultValue;
        try
        {
            return parse(text.Trim());
        }
        catch (FormatException)
        {
            string expected = typeof(T) == typeof(int) ? "an integer" : typeof(T) == typeof(bool) ? "true or false" : "a number";
            throw new ArgumentException($"Hyperparameter '{name}' must be {expected}, not '{text}'.");
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"Hyperparameter '{name}' is out of range: '{text}'.");
        }
    }
}
