namespace Mnist.Core.Numerics;

/// <summary>A unit of work split into numbered parts that may run on different threads.</summary>
internal interface IParallelJob
{
    void Execute(int part);
}

/// <summary>
/// Runs the parts of an <see cref="IParallelJob"/> on the calling thread plus thread-pool helpers, without
/// allocating: one runner per calling thread is reused, and the same runner object is the queued work item.
/// Parts are claimed from a shared counter, so the caller finishes the work itself if helpers start late (or
/// never, when the pool is busy) and nested use cannot deadlock.
/// </summary>
internal sealed class ParallelRunner : IThreadPoolWorkItem
{
    private const int Closed = int.MaxValue / 2;

    [ThreadStatic] private static ParallelRunner? t_runner;

    private readonly ManualResetEventSlim _done = new(false);
    private IParallelJob? _job;
    private int _parts;
    private int _next = Closed;
    private int _remaining;
    private Exception? _error;

    /// <summary>Runs parts 0 … <paramref name="parts"/>−1 of <paramref name="job"/>, using up to <paramref name="parts"/> threads.</summary>
    public static void Run(IParallelJob job, int parts)
    {
        if (parts <= 1)
        {
            if (parts == 1) job.Execute(0);
            return;
        }
        (t_runner ??= new ParallelRunner()).RunCore(job, parts);
    }

    private void RunCore(IParallelJob job, int parts)
    {
        _job = job;
        _parts = parts;
        _remaining = parts;
        _error = null;
        _done.Reset();
        // Opening the counter last (a full fence) publishes the fields above to any helper that claims a part.
        Interlocked.Exchange(ref _next, 0);
        for (int i = 1; i < parts; i++)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        Work();
        // Whoever finishes the last part sets the event, so this wait consumes exactly this run's signal.
        _done.Wait();
        Interlocked.Exchange(ref _next, Closed);
        _job = null;
        if (_error is { } error)
            throw new AggregateException(error);
    }

    private void Work()
    {
        while (true)
        {
            int part = Interlocked.Increment(ref _next) - 1;
            // A helper queued by an earlier run that starts late sees a closed counter and leaves.
            if (part >= _parts) return;
            try
            {
                _job!.Execute(part);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }

    void IThreadPoolWorkItem.Execute() => Work();
}
