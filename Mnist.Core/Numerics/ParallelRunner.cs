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
    // _state packs the open run's id (bits 32–63), the helper seats left (bits 24–31) and the next part
    // (bits 0–23). Seats and parts are claimed by compare-and-swap against the whole word, so a worker that
    // is late for one run can never take a seat or a part of the next: the thread bound holds exactly.
    private const int NextBits = 24;
    private const long NextMask = (1L << NextBits) - 1;
    private const long SeatUnit = 1L << NextBits;
    private const long Closed = NextMask; // a "next part" beyond any run's part count
    private const int MaxParts = (1 << NextBits) - 1;

    [ThreadStatic] private static ParallelRunner? t_runner;

    private readonly ManualResetEventSlim _done = new(false);
    private IParallelJob? _job;
    private int _parts;
    private int _runId;
    private long _state = Closed;
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
        var runner = t_runner ??= new ParallelRunner();
        if (runner._job is not null)
        {
            // A part run on this thread parallelises again: its run is still open, so the inner parts run here, in order.
            for (int part = 0; part < parts; part++) job.Execute(part);
            return;
        }
        runner.RunCore(job, parts, Math.Min(threads, parts) - 1);
    }

    private void RunCore(IParallelJob job, int parts, int helpers)
    {
        if (parts > MaxParts) throw new ArgumentOutOfRangeException(nameof(parts));
        _job = job;
        _parts = parts;
        _remaining = parts;
        _error = null;
        _done.Reset();
        long id = ++_runId & 0xFFFFFFFFL;
        // Opening the run (a full fence) publishes the fields above to any thread that claims a part.
        Interlocked.Exchange(ref _state, (id << 32) | ((long)Math.Min(helpers, 255) << NextBits));
        bool dispatched = !ComputeWorkers.IsWorkerThread && ComputeWorkers.TryDispatch(this, helpers);
        Work(id);
        // Whoever finishes the last part sets the event, so this wait consumes exactly this run's signal.
        _done.Wait();
        Interlocked.Exchange(ref _state, (id << 32) | Closed);
        if (dispatched) ComputeWorkers.EndDispatch(this);
        _job = null;
        if (_error is { } error)
            throw new AggregateException(error);
    }

    /// <summary>A worker's entry: takes one of the open run's helper seats, if any is left, and works on that run.</summary>
    internal void Help()
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if ((state & NextMask) >= _parts || (state >> NextBits & 0xFF) == 0) return;
            if (Interlocked.CompareExchange(ref _state, state - SeatUnit, state) == state)
            {
                Work(state >> 32);
                return;
            }
        }
    }

    /// <summary>Claims and runs parts of run <paramref name="id"/> until none is left.</summary>
    private void Work(long id)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int part = (int)(state & NextMask);
            // A worker that arrives after the run closed (or a later run opened) leaves.
            if (state >> 32 != id || part >= _parts) return;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state) continue;
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

    [ThreadStatic] private static bool t_isWorker;

    public static bool IsWorkerThread => t_isWorker;

    /// <summary>Offers <paramref name="runner"/> to up to <paramref name="helpers"/> workers; false if another dispatch is open.</summary>
    public static bool TryDispatch(ParallelRunner runner, int helpers)
    {
        if (Interlocked.CompareExchange(ref s_current, runner, null) != null) return false;
        EnsureWorkers(helpers);
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

    private static void WorkerLoop(object? _)
    {
        t_isWorker = true;
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
            // Only as many workers as the run has helper seats join it (a 2-part job uses one helper).
            Volatile.Read(ref s_current)?.Help();
        }
    }
}
