using Mnist.Core.Training;
using Spectre.Console;

namespace Mnist.Runner;

/// <summary>
/// What a command needs from the outside world, injected so tests can run commands in-process:
/// the trainer catalog, the console and writers, cancellation, and the directories used for defaults.
/// </summary>
public sealed record RunnerEnvironment
{
    public required TrainerCatalog Catalog { get; init; }
    /// <summary>Rich output (tables, progress).</summary>
    public required IAnsiConsole Console { get; init; }
    /// <summary>Plain standard output (System.CommandLine help and usage text).</summary>
    public required TextWriter Out { get; init; }
    /// <summary>Standard error: one line per error.</summary>
    public required TextWriter Error { get; init; }
    /// <summary>Cancelled by Ctrl+C.</summary>
    public CancellationToken Cancellation { get; init; }
    /// <summary>True to draw a live progress display; false for one plain line per epoch or ~10%.</summary>
    public bool LiveProgress { get; init; }
    /// <summary>Where relative paths and the default data/reports folders are resolved from.</summary>
    public string CurrentDirectory { get; init; } = Directory.GetCurrentDirectory();
    /// <summary>The application's folder; a second starting point when looking for the repository's data folder.</summary>
    public string BaseDirectory { get; init; } = AppContext.BaseDirectory;
    /// <summary>Reads an environment variable (a scheduler's shard index, e.g. SLURM_ARRAY_TASK_ID); null when unset.</summary>
    public Func<string, string?> Variable { get; init; } = Environment.GetEnvironmentVariable;
    /// <summary>The clock for the default output folder name.</summary>
    public Func<DateTime> Now { get; init; } = () => DateTime.Now;

    /// <summary>The real console: Spectre's console on stdout, stderr for errors, live progress when interactive.</summary>
    public static RunnerEnvironment ForConsole(TrainerCatalog catalog, CancellationToken cancellation)
    {
        var console = AnsiConsole.Console;
        var capabilities = console.Profile.Capabilities;
        // Redirected output (a log file) has no real width: do not wrap lines at 80 columns.
        if (System.Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 200);
        return new RunnerEnvironment
        {
            Catalog = catalog,
            Console = console,
            Out = System.Console.Out,
            Error = System.Console.Error,
            Cancellation = cancellation,
            LiveProgress = capabilities.Interactive && capabilities.Ansi && !System.Console.IsOutputRedirected,
        };
    }

    /// <summary>A plain, non-interactive console writing to <paramref name="output"/> (for tests and logs).</summary>
    public static IAnsiConsole PlainConsole(TextWriter output, int width = 160)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        return console;
    }
}
