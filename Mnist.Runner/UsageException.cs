namespace Mnist.Runner;

/// <summary>A bad command-line value: reported as one "error:" line with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A trainer threw while fitting or predicting; the run stops without writing results.</summary>
public sealed class TrainerFailedException(string trainer, Exception inner)
    : Exception($"trainer '{trainer}' failed: {inner.GetType().Name}: {inner.Message}", inner)
{
    public string Trainer { get; } = trainer;
}

/// <summary>
/// The run was interrupted (Ctrl+C or SIGTERM) and has already saved what it could (a partial report,
/// checkpoints); <see cref="Exception.Message"/> is the one line telling what was kept and how to resume.
/// </summary>
public sealed class RunInterruptedException(string message) : Exception(message);

/// <summary>Process exit codes of the runner.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>An unexpected failure (a bug or a trainer crash); the stack trace goes to stderr.</summary>
    public const int Failure = 1;
    /// <summary>Bad input: a command-line value or a data file.</summary>
    public const int BadInput = 2;
    /// <summary>Interrupted by Ctrl+C or SIGTERM (128 + SIGINT, for both).</summary>
    public const int Interrupted = 130;
}
