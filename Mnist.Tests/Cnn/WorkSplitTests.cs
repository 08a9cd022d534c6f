using System.Collections.Concurrent;
using Mnist.Cnn;

namespace Mnist.Tests.Cnn;

[TestFixture]
public class WorkSplitTests
{
    [TestCase(1, 1)]
    [TestCase(128, 2)]
    [TestCase(7, 3)]
    [TestCase(2, 3)]
    public void EachWorkerRunsItsOwnContiguousRangeOnce(int items, int threads)
    {
        using (ComputeThreads.Use(threads))
        {
            int workers = WorkSplit.Workers(items);
            for (int round = 0; round < 30; round++)
            {
                var calls = new ConcurrentBag<(int Worker, int Start, int End, int Thread)>();
                WorkSplit.Run(items, (worker, start, end) => calls.Add((worker, start, end, Environment.CurrentManagedThreadId)));
                var ordered = calls.OrderBy(c => c.Worker).ToList();
                Assert.That(ordered.Select(c => c.Worker), Is.EqualTo(Enumerable.Range(0, workers)), $"round {round}");
                Assert.That(ordered.Select(c => (c.Start, c.End)), Is.EqualTo(ordered.Select(c => WorkSplit.Range(items, workers, c.Worker))));
                Assert.That(ordered[0].Start, Is.Zero);
                Assert.That(ordered[^1].End, Is.EqualTo(items));
                Assert.That(ordered.Zip(ordered.Skip(1)).All(p => p.First.End == p.Second.Start), "ranges are contiguous");
                Assert.That(calls.Select(c => c.Thread).Distinct().Count(), Is.LessThanOrEqualTo(threads));
            }
        }
    }
}
