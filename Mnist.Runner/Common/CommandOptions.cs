using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Mnist.Runner.Common;

/// <summary>
/// The options of one command, kept in declaration order so the resolved values can be echoed as
/// results.json's <c>configuration</c> (keys = option names without dashes, as in a <c>--config</c> file).
/// </summary>
public sealed class CommandOptions
{
    private readonly List<(Option Option, Func<ParseResult, object?> Value)> _options = [];

    public IEnumerable<Option> All => _options.Select(o => o.Option);

    /// <summary>Registers <paramref name="option"/> and returns it.</summary>
    public Option<T> Add<T>(Option<T> option)
    {
        _options.Add((option, parseResult => parseResult.GetValue(option)));
        return option;
    }

    /// <summary>Adds every registered option to <paramref name="command"/>.</summary>
    public Command AddTo(Command command)
    {
        foreach (var (option, _) in _options) command.Add(option);
        return command;
    }

    /// <summary>The key of an option in a config file and in results.json's configuration: its name without leading dashes.</summary>
    public static string Key(Option option) => option.Name.TrimStart('-');

    /// <summary>Every option's resolved value (command line, else config file, else default), except --config itself.</summary>
    public IReadOnlyDictionary<string, object?> Resolve(ParseResult parseResult)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (option, value) in _options)
        {
            if (option.Name == ConfigFile.OptionName) continue;
            values[Key(option)] = value(parseResult) switch
            {
                string[] array => array.ToList(),
                var v => v,
            };
        }
        return values;
    }

    /// <summary>The command line as typed, shell-quoted where needed.</summary>
    public static string CommandLineText(ParseResult parseResult) =>
        "mnist " + string.Join(' ', parseResult.Tokens.Select(t => Quote(t.Value)));

    private static string Quote(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\' or '$' or '`')
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";

    internal static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What every command records about how it was invoked.</summary>
/// <param name="CommandLine">The command line as typed.</param>
/// <param name="Configuration">Resolved option values, keyed as in a config file.</param>
/// <param name="ConfigFile">The full path of the --config file, if one was given.</param>
public sealed record Invocation(string CommandLine, IReadOnlyDictionary<string, object?> Configuration, string? ConfigFile)
{
    public static Invocation From(ParseResult parseResult, CommandOptions options, RunnerEnvironment environment)
    {
        var config = options.All.OfType<Option<string?>>().FirstOrDefault(o => o.Name == Common.ConfigFile.OptionName);
        string? configPath = config is null ? null : parseResult.GetValue(config);
        return new Invocation(
            CommandOptions.CommandLineText(parseResult),
            options.Resolve(parseResult),
            configPath is null ? null : Path.GetFullPath(configPath, environment.CurrentDirectory));
    }
}
