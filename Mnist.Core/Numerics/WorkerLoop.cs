namespace Mnist.Core.Numerics;

/// <summary>
/// A parallel loop whose workers each make their scratch state once. <c>Parallel.For</c>'s localInit runs again
/// every time the scheduler starts a new task replica (replicas retire after a time slice), so a per-worker buffer
/// of megabytes is allocated over and over: large-object-heap garbage that piles up until a full collection and
/// shows up in the process's peak memory. Here exactly min(threads, count) workers claim items from a counter.
/// </summary>
internal static class WorkerLoop
{
    /// <summary>
    /// Runs <paramref name="body"/>(item, state) for every item in [0, <paramref name="count"/>) on at most
    /// <see cref="ComputeSettings.Resolve"/>(<paramref name="threads"/>) threads, each with its own
    /// <paramref name="createState"/>() made once. Items must not depend on which worker runs them.
    /// </summary>
    public static void For<TState>(int count, Func<TState> createState, Action<int, TState> body, int threads = 0, CancellationToken cancellationToken = default)
    {
        int workers = Math.Min(count, ComputeSettings.Resolve(threads));
        if (workers <= 0) return;
        int next = -1;
        Parallel.For(0, workers, ComputeSettings.ParallelOptions(workers, cancellationToken), _ =>
        {
            var state = createState();
            for (int item = Interlocked.Increment(ref next); item < count; item = Interlocked.Increment(ref next))
            {
                cancellationToken.ThrowIfCancellationRequested();
                body(item, state);
            }
        });
    }
}
