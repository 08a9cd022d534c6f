using System.Globalization;
using System.Text.Json;

namespace Mnist.Core.Training;

/// <summary>The value type of a <see cref="Hyperparameter"/>.</summary>
public enum HyperparameterType
{
    /// <summary>A 32-bit integer (boxed as <see cref="int"/>).</summary>
    Int,
    /// <summary>A finite double (boxed as <see cref="double"/>).</summary>
    Double,
    /// <summary>true or false (boxed as <see cref="bool"/>).</summary>
    Bool,
    /// <summary>One of a fixed list of names (boxed as the <see cref="string"/> name).</summary>
    Choice,
    /// <summary>Free text with a syntax of its own, checked by the trainer (boxed as <see cref="string"/>; e.g. an ensemble's members).</summary>
    Text,
}

/// <summary>
/// One declared hyperparameter of a trainer, independent of its options type: name, type, default,
/// allowed range or choices and a one-line doc. Values are boxed as <see cref="int"/>, <see cref="double"/>,
/// <see cref="bool"/> or the choice's <see cref="string"/> name, in results.json as in model files.
/// Declared through <see cref="HyperparameterSchema{TOptions}"/>.
/// </summary>
public sealed class Hyperparameter
{
    private readonly double? _lower, _upper;
    private readonly bool _lowerInclusive, _upperInclusive;

    internal Hyperparameter(string name, HyperparameterType type, string doc, object defaultValue, bool isSeed = false,
        double? lower = null, bool lowerInclusive = true, double? upper = null, bool upperInclusive = true, IReadOnlyList<string>? choices = null)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => char.IsWhiteSpace(c) || c is '=' or ',' or '.'))
            throw new ArgumentException($"'{name}' is not a valid hyperparameter name (no blanks, '=', ',' or '.').", nameof(name));
        (Name, Type, Doc, IsSeed, Choices) = (name, type, doc, isSeed, choices ?? []);
        (_lower, _lowerInclusive, _upper, _upperInclusive) = (lower, lowerInclusive, upper, upperInclusive);
        Default = defaultValue;
        Check(defaultValue);
    }

    /// <summary>The same declaration with another default (checked against the range).</summary>
    internal Hyperparameter WithDefault(object value) =>
        new(Name, Type, Doc, value, IsSeed, _lower, _lowerInclusive, _upper, _upperInclusive, Choices);

    /// <summary>The name used by <c>--param</c>, grid axes, results.json and model files (kebab-case).</summary>
    public string Name { get; }
    /// <summary>The value type: int, double, bool, a choice or text.</summary>
    public HyperparameterType Type { get; }
    /// <summary>One line for <c>mnist trainers</c> and help texts.</summary>
    public string Doc { get; }
    /// <summary>The value when not overridden (boxed as described on the class).</summary>
    public object Default { get; }
    /// <summary>Whether this is the trainer's random seed, which a run's <c>--seed</c> sets unless <c>--param</c> does.</summary>
    public bool IsSeed { get; }
    /// <summary>The allowed names of a <see cref="HyperparameterType.Choice"/>; empty otherwise.</summary>
    public IReadOnlyList<string> Choices { get; }

    /// <summary>The allowed values in words: "≥ 0", "(0, 10]", "1..1000", "ovr | crammer-singer", or "any" (ints, bools).</summary>
    public string Range => Type switch
    {
        HyperparameterType.Choice => string.Join(" | ", Choices),
        HyperparameterType.Bool => "true | false",
        HyperparameterType.Text => "text",
        _ when _lower is null && _upper is null => "any",
        HyperparameterType.Int when _lower is not null && _upper is not null => $"{Bound(_lower.Value)}..{Bound(_upper.Value)}",
        _ when _upper is null => $"{(_lowerInclusive ? "≥" : ">")} {Bound(_lower!.Value)}",
        _ when _lower is null => $"{(_upperInclusive ? "≤" : "<")} {Bound(_upper.Value)}",
        _ => $"{(_lowerInclusive ? "[" : "(")}{Bound(_lower!.Value)}, {Bound(_upper!.Value)}{(_upperInclusive ? "]" : ")")}",
    };

    /// <summary>"int", "double", "bool", "choice" or "text".</summary>
    public string TypeName => Type.ToString().ToLowerInvariant();

    /// <summary>Parses <paramref name="text"/> (invariant culture; choices case-insensitive) and checks the range; a bad value is an <see cref="ArgumentException"/> naming the hyperparameter.</summary>
    public object Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        object value = Type switch
        {
            HyperparameterType.Int => int.TryParse(trimmed, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i
                : long.TryParse(trimmed, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                    ? throw new ArgumentException($"Hyperparameter '{Name}' is out of range: '{text}'.")
                    : throw Invalid($"an integer, not '{text}'"),
            HyperparameterType.Double => double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? d
                : throw Invalid($"a finite number, not '{text}'"),
            HyperparameterType.Bool => bool.TryParse(trimmed, out bool b) ? b : throw Invalid($"true or false, not '{text}'"),
            HyperparameterType.Text => trimmed,
            _ => Choices.FirstOrDefault(c => c.Equals(trimmed, StringComparison.OrdinalIgnoreCase)) ?? throw Invalid($"{ChoiceList()}, not '{text}'"),
        };
        Check(value);
        return value;
    }

    /// <summary>The value as text that <see cref="Parse"/> reads back (invariant culture, round-trip doubles).</summary>
    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="value"/> has this type and lies in the range.</summary>
    internal void Check(object value)
    {
        switch (Type, value)
        {
            case (HyperparameterType.Int, int i):
                CheckBounds(i, Format(i));
                break;
            case (HyperparameterType.Double, double d):
                if (!double.IsFinite(d)) throw Invalid($"a finite number, not {Format(d)}");
                CheckBounds(d, Format(d));
                break;
            case (HyperparameterType.Bool, bool):
                break;
            case (HyperparameterType.Text, string s) when s.Length > 0:
                break;
            case (HyperparameterType.Text, string):
                throw Invalid("non-empty text");
            case (HyperparameterType.Choice, string s) when Choices.Contains(s, StringComparer.Ordinal):
                break;
            case (HyperparameterType.Choice, string s):
                throw Invalid($"{ChoiceList()}, not '{s}'");
            default:
                throw new ArgumentException($"Hyperparameter '{Name}' is {TypeName}, not {value?.GetType().Name ?? "null"}.");
        }
    }

    /// <summary>Reads a value written by <see cref="WriteJson"/>; anything else is an <see cref="ArgumentException"/>.</summary>
    internal object ReadJson(JsonElement element)
    {
        object value = (Type, element.ValueKind) switch
        {
            (HyperparameterType.Int, JsonValueKind.Number) when element.TryGetInt32(out int i) => i,
            (HyperparameterType.Double, JsonValueKind.Number) => element.GetDouble(),
            (HyperparameterType.Bool, JsonValueKind.True) => true,
            (HyperparameterType.Bool, JsonValueKind.False) => false,
            (HyperparameterType.Choice or HyperparameterType.Text, JsonValueKind.String) => element.GetString()!,
            _ => throw Invalid($"{(Type == HyperparameterType.Choice ? ChoiceList() : Type == HyperparameterType.Text ? "a JSON string" : "a JSON " + TypeName)}, not {element.GetRawText()}"),
        };
        Check(value);
        return value;
    }

    internal static void WriteJson(Utf8JsonWriter writer, string name, object value)
    {
        switch (value)
        {
            case int i: writer.WriteNumber(name, i); break;
            case double d: writer.WriteNumber(name, d); break;
            case bool b: writer.WriteBoolean(name, b); break;
            default: writer.WriteString(name, (string)value); break;
        }
    }

    private void CheckBounds(double value, string text)
    {
        bool aboveLower = _lower is not double lower || (_lowerInclusive ? value >= lower : value > lower);
        bool belowUpper = _upper is not double upper || (_upperInclusive ? value <= upper : value < upper);
        if (!aboveLower || !belowUpper)
            throw Invalid($"{(Range.StartsWith('[') || Range.StartsWith('(') || Range.Contains("..", StringComparison.Ordinal) ? "in " : "")}{Range}, not {text}");
    }

    private string ChoiceList() => Choices.Count == 2
        ? $"'{Choices[0]}' or '{Choices[1]}'"
        : "one of " + string.Join(", ", Choices.Select(c => $"'{c}'"));

    private ArgumentException Invalid(string expected) => new($"Hyperparameter '{Name}' must be {expected}.");

    private static string Bound(double bound) => bound.ToString("R", CultureInfo.InvariantCulture);
}
