using Mnist.Core.Data;
using Mnist.Core.IO;
using Mnist.Core.Training;

namespace Mnist.Runner.Common;

/// <summary>
/// Runs a command body and turns every failure into the runner's exit codes: bad input (a usage
/// mistake, a malformed data, model or config file, an engine that cannot run here) is one "error:" line and exit 2; a write the
/// environment refuses (a full disk, no permission, a read-only file system) is one line naming the file
/// and the cause, exit 1; Ctrl+C or SIGTERM is exit 130 (after saving what the command can resume from);
/// a trainer crash is exit 1 with its stack trace.
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
        catch (EngineUnavailableException e)
        {
            // A trainer's or model's engine that cannot run here (a native library that does not load): one line, exit 2.
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
        catch (OutputWriteException e)
        {
            // A path that cannot name a file (a folder that is a file, a missing drive) is a bad option: exit 2.
            // Otherwise the environment refused the write (a full disk, no permission, a read-only mount): exit 1.
            environment.Error.WriteLine($"error: {e.Message}");
            return e.IsBadPath ? ExitCodes.BadInput : ExitCodes.Failure;
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
            // Another file-system failure (removing a checkpoint on a read-only mount, say): the environment again.
            environment.Error.WriteLine($"error: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
    }

    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ').Trim();
}
