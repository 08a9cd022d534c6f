using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;

namespace Mnist.Runner.Common;

/// <summary>
/// A <c>--config FILE.json</c>: one JSON object whose keys are a command's option names without dashes
/// (<c>{"trainers": "logreg,mlp", "seed": 7, "param": ["l2=1e-4"]}</c>). Values become command-line
/// tokens for the options the command line did not set, so the file goes through the same parsing and
/// validation as typed options. Keys starting with '_' or '$' are comments; null means "not set".
/// For <c>--param</c>, file entries whose hyperparameter the command line also sets are dropped.
/// </summary>
public sealed class ConfigFile
{
    public const string OptionName = "--config";

    private ConfigFile(string path, IReadOnlyList<(string Key, JsonElement Value)> entries)
    {
        Path = path;
        Entries = entries;
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    public IReadOnlyList<(string Key, JsonElement Value)> Entries { get; }

    /// <summary>Reads and parses the file; any problem is a <see cref="UsageException"/> naming the file.</summary>
    public static ConfigFile Load(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a folder, not a config file");
        if (!File.Exists(path)) throw new UsageException($"{path}: config file not found");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: cannot read the config file ({e.Message})");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $"line {line + 1}" + (e.BytePositionInLine is long column ? $", column {column + 1}" : "") : "somewhere";
            throw new UsageException($"{path}: not valid JSON at {where}");
        }
        using (document) return FromObject(path, document.RootElement);
    }

    /// <summary>
    /// Option values from a JSON object already read, e.g. the <c>configuration</c> a run echoed into results.json;
    /// <paramref name="path"/> names it in error messages.
    /// </summary>
    public static ConfigFile FromObject(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new UsageException($"{path}: a config file must be one JSON object like {{\"seed\": 7}}, not {Describe(root.ValueKind)}");
        var entries = new List<(string, JsonElement)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name.StartsWith('_') || property.Name.StartsWith('$')) continue;
            if (!seen.Add(property.Name)) throw new UsageException($"{path}: key '{property.Name}' appears twice");
            entries.Add((property.Name, property.Value.Clone()));
        }
        return new ConfigFile(path, entries);
    }

    /// <summary>
    /// The tokens to append to the command line: each file entry for an option of <paramref name="command"/>
    /// that <paramref name="parsed"/> does not set explicitly. Unknown keys and values of the wrong shape are errors.
    /// </summary>
    public IReadOnlyList<string> Tokens(Command command, ParseResult parsed)
    {
        var options = command.Options
            .Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name != OptionName && o.Name != "--help")
            .ToDictionary(CommandOptions.Key, StringComparer.OrdinalIgnoreCase);
        var tokens = new List<string>();
        foreach (var (key, value) in Entries)
        {
            if (key.Equals(OptionName.TrimStart('-'), StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"{Path}: a config file cannot name another config file ('{key}')");
            if (!options.TryGetValue(key, out var option))
                throw new UsageException($"{Path}: unknown key '{key}' for 'mnist {command.Name}'; known keys: {string.Join(", ", options.Keys.Order(StringComparer.Ordinal))}");
            if (value.ValueKind == JsonValueKind.Null) continue;
            var given = parsed.GetResult(option);
            bool onCommandLine = given is { Implicit: false };
            bool isArray = option.ValueType.IsArray;
            if (onCommandLine && !(isArray && option.Name == "--param")) continue;

            if (option.ValueType == typeof(bool))
            {
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    throw new UsageException($"{Path}: '{key}' must be true or false, not {Describe(value.ValueKind)}");
                if (value.ValueKind == JsonValueKind.True) tokens.Add(option.Name);
                continue;
            }
            if (isArray)
            {
                var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
                var texts = items.Select(item => Scalar(key, item)).ToList();
                if (onCommandLine)
                {
                    // --param on both: the command line's hyperparameters win, the file's others stay.
                    var typed = given!.Tokens.Select(t => ParamName(t.Value)).ToHashSet(StringComparer.OrdinalIgnoreCase);
                    texts = texts.Where(t => !typed.Contains(ParamName(t))).ToList();
                }
                foreach (string text in texts) tokens.AddRange([option.Name, text]);
                continue;
            }
            if (value.ValueKind is JsonValueKind.Array or JsonValueKind.Object)
                throw new UsageException($"{Path}: '{key}' takes one value, not {Describe(value.ValueKind)}");
            tokens.AddRange([option.Name, Scalar(key, value)]);
        }
        return tokens;
    }

    private static string ParamName(string text)
    {
        int equals = text.IndexOf('=');
        return (equals < 0 ? text : text[..equals]).Trim();
    }

    private string Scalar(string key, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new UsageException($"{Path}: '{key}' holds {Describe(value.ValueKind)}; expected a string, number or true/false"),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}
