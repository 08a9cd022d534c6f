using System.Diagnostics;

namespace Mnist.Core.Numerics;

/// <summary>A unit of work split into numbered parts that may run on different threads.</summary>
internal interface IParallelJob
{
    void Execute(int part);
}

/// <summary>
/// Runs the parts of an <see cref="IParallelJob"/> on the calling thread plus dedicated compute workers, without
/// allocating. Parts are claimed from a shared counter, so the caller finishes the work itself if helpers start
/// late, and nothing can deadlock. Workers spin briefly after each job before sleeping, so back-to-back calls (a
/// training loop) start both halves within a microsecond or so instead of paying a thread wake-up each time.
/// One dispatch is open at a time; a second caller meanwhile simply runs its parts on its own thread.
/// </summary>
internal sealed class ParallelRunner
{
    private const int Closed = int.MaxValue / 2;

    [ThreadStatic] private static ParallelRunner? t_runner;

    private readonly ManualResetEventSlim _done = new(false);
    private IParallelJob? _job;
    private int _parts;
    private int _next = Closed;
    private int _remaining;
    private Exception? _error;

    /// <summary>
    /// Runs parts 0 … <paramref name="parts"/>−1 of <paramref name="job"/> on at most <paramref name="threads"/>
    /// threads (the caller included); with one thread they run in order on the caller.
    /// </summary>
    public static void Run(IParallelJob job, int parts, int threads)
    {
        if (parts <= 1 || threads <= 1)
        {
            for (int part = 0; part < parts; part++) job.Execute(part);
            return;
        }
        (t_runner ??= new ParallelRunner()).RunCore(job, parts, Math.Min(threads, parts) - 1);
    }

    private void RunCore(IParallelJob job, int parts, int helpers)
    {
        _job = job;
        _parts = parts;
        _remaining = parts;
        _error = null;
        _done.Reset();
        // Opening the counter (a full fence) publishes the fields above to any thread that claims a part.
        Interlocked.Exchange(ref _next, 0);
        bool dispatched = !ComputeWorkers.IsWorkerThread && ComputeWorkers.TryDispatch(this, helpers);
        Work();
        // Whoever finishes the last part sets the event, so this wait consumes exactly this run's signal.
        _done.Wait();
        Interlocked.Exchange(ref _next, Closed);
        if (dispatched) ComputeWorkers.EndDispatch(this);
        _job = null;
        if (_error is { } error)
            throw new AggregateException(error);
    }

    /// <summary>Claims and runs parts until none is left.</summary>
    internal void Work()
    {
        while (true)
        {
            int part = Interlocked.Increment(ref _next) - 1;
            // A worker that arrives after the run closed sees a closed counter and leaves.
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
}

/// <summary>Dedicated background threads that help <see cref="ParallelRunner"/>; created on first use, as many as asked for.</summary>
internal static class ComputeWorkers
{
    /// <summary>How long an idle worker spins for the next job before it blocks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    private static readonly object CreateLock = new();
    private static readonly SemaphoreSlim Wake = new(0);
    private static readonly List<Thread> Threads = [];
    private static ParallelRunner? s_current;
    private static int s_generation;
    private static int s_sleepers;
    private static int s_wanted;

    [ThreadStatic] private static bool t_isWorker;

    public static bool IsWorkerThread => t_isWorker;

    /// <summary>Offers <paramref name="runner"/> to up to <paramref name="helpers"/> workers; false if another dispatch is open.</summary>
    public static bool TryDispatch(ParallelRunner runner, int helpers)
    {
        if (Interlocked.CompareExchange(ref s_current, runner, null) != null) return false;
        EnsureWorkers(helpers);
        Volatile.Write(ref s_wanted, helpers);
        Interlocked.Increment(ref s_generation);
        // Pairs with the worker's increment of s_sleepers before its last look at s_generation: either it sees
        // the new generation, or this sees it asleep and wakes it.
        int sleepers = Volatile.Read(ref s_sleepers);
        if (sleepers > 0) Wake.Release(Math.Min(sleepers, helpers));
        return true;
    }

    public static void EndDispatch(ParallelRunner runner) => Interlocked.CompareExchange(ref s_current, null, runner);

    private static void EnsureWorkers(int count)
    {
        if (Threads.Count >= count) return;
        lock (CreateLock)
        {
            while (Threads.Count < count)
            {
                var thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"Mnist compute worker {Threads.Count + 1}" };
                Threads.Add(thread);
                thread.Start(Threads.Count);
            }
        }
    }

    private static void WorkerLoop(object? index)
    {
        t_isWorker = true;
        int rank = (int)index!;
        int seen = Volatile.Read(ref s_generation);
        while (true)
        {
            long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref s_generation) == seen)
            {
                if (Stopwatch.GetTimestamp() < spinUntil)
                {
                    Thread.SpinWait(16);
                    continue;
                }
                Interlocked.Increment(ref s_sleepers);
                if (Volatile.Read(ref s_generation) == seen) Wake.Wait();
                Interlocked.Decrement(ref s_sleepers);
                spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            }
            seen = Volatile.Read(ref s_generation);
            // Workers beyond what this dispatch asked for stay out, so a 2-part job uses one helper.
            if (rank <= Volatile.Read(ref s_wanted))
                Volatile.Read(ref s_current)?.Work();
        }
    }
}
