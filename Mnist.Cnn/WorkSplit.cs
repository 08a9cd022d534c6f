using Mnist.Core.Numerics;

namespace Mnist.Cnn;

/// <summary>Splits a batch of samples into one contiguous range per worker, bounded by <see cref="ComputeSettings.Threads"/>.</summary>
internal static class WorkSplit
{
    /// <summary>Number of workers for <paramref name="items"/> samples (never more workers than samples).</summary>
    public static int Workers(int items) => Math.Max(1, Math.Min(ComputeSettings.Threads, items));

    /// <summary>The [start, end) range of worker <paramref name="worker"/> of <paramref name="workers"/>.</summary>
    public static (int Start, int End) Range(int items, int workers, int worker) =>
        ((int)((long)items * worker / workers), (int)((long)items * (worker + 1) / workers));

    /// <summary>
    /// Runs body(worker, start, end) for each worker's range, on the caller and the compute workers that run the
    /// convolutions and matrix products. One pool for every step: a second one (the .NET thread pool) would wake
    /// its thread on the core where a compute worker is still spinning after the last product, and lose both.
    /// </summary>
    public static void Run(int items, Action<int, int, int> body)
    {
        int workers = Workers(items);
        if (workers == 1)
        {
            body(0, 0, items);
            return;
        }
        ParallelRunner.Run(new RangeJob(items, workers, body), workers, workers);
    }

    /// <summary>Part w of the job is worker w's range, so per-worker scratch indexed by w is never shared.</summary>
    private sealed class RangeJob(int items, int workers, Action<int, int, int> body) : IParallelJob
    {
        public void Execute(int part)
        {
            var (start, end) = Range(items, workers, part);
            body(part, start, end);
        }
    }
}
