namespace Mnist.Runner;

/// <summary>A bad command-line value: reported as one "error:" line with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Process exit codes of the runner.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>An unexpected failure (a bug or a trainer crash); the stack trace goes to stderr.</summary>
    public const int Failure = 1;
    /// <summary>Bad input: a command-line value or a data file.</summary>
    public const int BadInput = 2;
    /// <summary>Interrupted by Ctrl+C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
