using Mnist.Core.Training;

namespace Mnist.Tests;

/// <summary>
/// Progress that calls <paramref name="report"/> on the reporting thread, at once (<see cref="Progress{T}"/> posts to
/// the thread pool, so a test could read its list before the last report arrived).
/// </summary>
public sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
