namespace Mnist.Core.Numerics;

/// <summary>
/// Process-wide bound on the worker threads the compute core and trainers may use. The runner sets it
/// from <c>--threads</c>; every parallel loop in the library reads it, so no code creates more.
/// </summary>
public static class ComputeSettings
{
    private static int _threads = Environment.ProcessorCount;

    /// <summary>Maximum number of threads for any one parallel operation (at least 1).</summary>
    public static int Threads
    {
        get => _threads;
        set => _threads = value < 1 ? Environment.ProcessorCount : value;
    }

    /// <summary>ParallelOptions bounded by <see cref="Threads"/> (or by <paramref name="threads"/> when positive).</summary>
    public static ParallelOptions ParallelOptions(int threads = 0, CancellationToken cancellationToken = default) =>
        new() { MaxDegreeOfParallelism = threads > 0 ? threads : Threads, CancellationToken = cancellationToken };

    /// <summary>The effective thread count for an operation: <paramref name="threads"/> when positive, else <see cref="Threads"/>.</summary>
    public static int Resolve(int threads) => threads > 0 ? threads : Threads;
}
