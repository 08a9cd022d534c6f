using System.Runtime.InteropServices;
using Mnist.Runner;

// Ctrl+C (SIGINT) and SIGTERM cancel the run through a token: trainers stop between steps, and the
// command saves what it can resume from (a partial report, checkpoints) before exiting with 130.
// A second signal is not intercepted, so it ends the process at once.
var cancellation = new CancellationTokenSource();
void Interrupt(PosixSignalContext context)
{
    if (cancellation.IsCancellationRequested) return;
    context.Cancel = true;
    cancellation.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

return Cli.Run(args, RunnerEnvironment.ForConsole(Catalogs.Default(), cancellation.Token));
