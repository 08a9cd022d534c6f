using Mnist.Core.Data;

namespace Mnist.Runner.Common;

/// <summary>
/// Runs a command body and turns every failure into the runner's exit codes: bad input (a usage
/// mistake, a malformed data, model or config file, an unwritable output) is one "error:" line and
/// exit 2; Ctrl+C or SIGTERM is exit 130 (after saving what the command can resume from); a trainer crash is exit 1 with its stack trace.
/// </summary>
public static class CommandExecution
{
    public static int Run(RunnerEnvironment environment, Action body)
    {
        try
        {
            body();
            return ExitCodes.Success;
        }
        catch (UsageException e)
        {
            environment.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (DataFormatException e)
        {
            environment.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (RunInterruptedException e)
        {
            environment.Error.WriteLine(e.Message);
            return ExitCodes.Interrupted;
        }
        catch (OperationCanceledException) when (environment.Cancellation.IsCancellationRequested)
        {
            environment.Error.WriteLine("interrupted: no results written");
            return ExitCodes.Interrupted;
        }
        catch (TrainerFailedException e)
        {
            // A bug in a trainer: one line saying which, then the stack trace to find it.
            environment.Error.WriteLine($"error: {e.Message}; no results written");
            environment.Error.WriteLine(e.InnerException);
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Writing an output failed (disk full, no permission): atomic writes leave no partial file.
            environment.Error.WriteLine($"error: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
    }

    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ').Trim();
}
