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

    /// <summary>Runs body(worker, start, end) for each worker's range; the caller's thread runs the last one.</summary>
    public static void Run(int items, Action<int, int, int> body)
    {
        int workers = Workers(items);
        if (workers == 1)
        {
            body(0, 0, items);
            return;
        }
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            var (start, end) = Range(items, workers, w);
            body(w, start, end);
        });
    }
}
