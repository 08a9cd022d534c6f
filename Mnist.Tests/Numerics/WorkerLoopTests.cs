using System.Collections.Concurrent;
using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

public class WorkerLoopTests
{
    [TestCase(1000, 1)]
    [TestCase(1000, 2)]
    [TestCase(3, 8)]
    [TestCase(0, 2)]
    public void EveryItemRunsOnceAndEachWorkerMakesItsStateOnce(int count, int threads)
    {
        var runs = new int[count];
        var states = new ConcurrentBag<object>();
        WorkerLoop.For(count, () => { var state = new object(); states.Add(state); return state; }, (item, state) =>
        {
            Interlocked.Increment(ref runs[item]);
            Thread.SpinWait(200); // long enough for the scheduler to start new task replicas in Parallel.For
        }, threads);
        Assert.That(runs, Has.All.EqualTo(1));
        Assert.That(states, Has.Count.LessThanOrEqualTo(Math.Min(count, threads)));
    }

    [Test]
    public void CancellationStopsTheLoop()
    {
        using var cancel = new CancellationTokenSource();
        int done = 0;
        Assert.That(() => WorkerLoop.For(100_000, () => 0, (item, _) =>
        {
            if (Interlocked.Increment(ref done) == 10) cancel.Cancel();
        }, threads: 2, cancel.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(done, Is.LessThan(100_000));
    }
}
