using Mnist.Runner;

// Ctrl+C cancels the run through a token (trainers stop between steps); a second Ctrl+C kills the process.
var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested) return;
    e.Cancel = true;
    cancellation.Cancel();
};

return Cli.Run(args, RunnerEnvironment.ForConsole(Catalogs.Default(), cancellation.Token));
