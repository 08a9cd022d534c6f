using Mnist.Core.Numerics;

namespace Mnist.Tests;

/// <summary>
/// Sets <see cref="ComputeSettings.Threads"/> for a scope and puts the previous value back at Dispose, so a failing
/// test cannot leak its thread count into the next.
/// </summary>
internal static class ComputeThreads
{
    /// <summary>Runs on <paramref name="threads"/> threads until the returned scope is disposed.</summary>
    public static Scope Use(int threads)
    {
        var scope = Keep();
        ComputeSettings.Threads = threads;
        return scope;
    }

    /// <summary>Changes nothing now and restores the current value at Dispose: for code that sets it itself (the runner's --threads).</summary>
    public static Scope Keep() => new(ComputeSettings.Threads);

    internal readonly struct Scope : IDisposable
    {
        private readonly int _saved;

        internal Scope(int saved) => _saved = saved;

        public void Dispose() => ComputeSettings.Threads = _saved;
    }
}
