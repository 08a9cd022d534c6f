using System.Collections.Concurrent;
using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

[TestFixture]
public class ParallelRunnerTests
{
    private sealed class RecordingJob(Action<int>? onPart = null) : IParallelJob
    {
        public ConcurrentBag<(int Part, int Thread)> Runs { get; } = [];

        public void Execute(int part)
        {
            Runs.Add((part, Environment.CurrentManagedThreadId));
            onPart?.Invoke(part);
        }
    }

    [Test]
    public void OneThread_RunsEveryPartInOrderOnTheCaller()
    {
        var order = new List<int>();
        var job = new RecordingJob(order.Add);
        ParallelRunner.Run(job, 5, threads: 1);
        Assert.Multiple(() =>
        {
            Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
            Assert.That(job.Runs.Select(r => r.Thread), Has.All.EqualTo(Environment.CurrentManagedThreadId));
        });
    }

    [TestCase(2, 2)]
    [TestCase(7, 2)]
    [TestCase(9, 3)]
    public void EveryPartRunsExactlyOnce_RepeatedDispatches(int parts, int threads)
    {
        for (int round = 0; round < 50; round++)
        {
            var job = new RecordingJob(_ => Thread.SpinWait(200));
            ParallelRunner.Run(job, parts, threads);
            Assert.That(job.Runs.Select(r => r.Part).Order(), Is.EqualTo(Enumerable.Range(0, parts)), $"round {round}");
        }
    }

    [Test]
    public void UsesNoMoreThreadsThanAllowed()
    {
        var job = new RecordingJob(_ => Thread.Sleep(2));
        ParallelRunner.Run(job, 12, threads: 2);
        Assert.That(job.Runs.Select(r => r.Thread).Distinct().Count(), Is.LessThanOrEqualTo(2));
    }

    [Test]
    public void ExceptionInAPart_IsRethrownToTheCaller_AndTheRunnerStaysUsable()
    {
        var failing = new RecordingJob(part => { if (part == 1) throw new InvalidOperationException("boom"); });
        Assert.That(() => ParallelRunner.Run(failing, 4, threads: 2),
            Throws.TypeOf<AggregateException>().With.InnerException.TypeOf<InvalidOperationException>());
        var ok = new RecordingJob();
        ParallelRunner.Run(ok, 4, threads: 2);
        Assert.That(ok.Runs, Has.Count.EqualTo(4));
    }

    [Test]
    public void APartThatRunsAJobItself_RunsThatJobsPartsOnce_AndTheOuterRunCompletes()
    {
        int caller = Environment.CurrentManagedThreadId;
        var inner = new ConcurrentBag<(int Outer, int Inner, int Thread)>();
        var outer = new RecordingJob(part =>
        {
            int thread = Environment.CurrentManagedThreadId;
            var nested = new RecordingJob(i => inner.Add((part, i, Environment.CurrentManagedThreadId)));
            ParallelRunner.Run(nested, 3, threads: 2);
            // On the caller, whose run is still open, the inner parts run in place; a worker may dispatch them.
            if (thread == caller) Assert.That(nested.Runs.Select(r => r.Thread), Has.All.EqualTo(thread));
        });
        for (int round = 0; round < 20; round++)
        {
            inner.Clear();
            var job = new RecordingJob(part => outer.Execute(part));
            ParallelRunner.Run(job, 4, threads: 2);
            Assert.That(job.Runs.Select(r => r.Part).Order(), Is.EqualTo(Enumerable.Range(0, 4)), $"round {round}");
            Assert.That(inner.Select(r => (r.Outer, r.Inner)).Order(),
                Is.EqualTo(from o in Enumerable.Range(0, 4) from i in Enumerable.Range(0, 3) select (o, i)), $"round {round}");
        }
    }
}
