using Mnist.Cnn.Training;

namespace Mnist.Tests.Cnn;

public class LearningRateScheduleTests
{
    [TestCase(0.3)]
    [TestCase(0.1)]
    [TestCase(0.5)]
    public void OneCycleWarmsUpLinearlyFromAFiftiethThenAnnealsToZero(double warmup)
    {
        var options = new NeuralTrainerOptions { LearningRate = 0.01, Schedule = LearningRateSchedule.OneCycle, Warmup = warmup };
        Assert.Multiple(() =>
        {
            Assert.That(options.ScheduledRate(0), Is.EqualTo(0.01 / 25).Within(1e-15));
            Assert.That(options.ScheduledRate(warmup / 2), Is.EqualTo(0.01 * (0.04 + 0.48)).Within(1e-15), "halfway up the line");
            Assert.That(options.ScheduledRate(warmup), Is.EqualTo(0.01).Within(1e-15), "the peak at the end of the warm-up");
            Assert.That(options.ScheduledRate(warmup + (1 - warmup) / 2), Is.EqualTo(0.005).Within(1e-15), "half the peak halfway down the cosine");
            Assert.That(options.ScheduledRate(1), Is.EqualTo(0).Within(1e-15));
        });
    }

    [Test]
    public void OneCycleWithoutWarmUpIsTheCosine()
    {
        var oneCycle = new NeuralTrainerOptions { LearningRate = 0.01, Schedule = LearningRateSchedule.OneCycle, Warmup = 0 };
        var cosine = oneCycle with { Schedule = LearningRateSchedule.Cosine };
        foreach (double t in new[] { 0, 0.25, 0.5, 0.9, 1 })
            Assert.That(oneCycle.ScheduledRate(t), Is.EqualTo(cosine.ScheduledRate(t)).Within(1e-15), $"t = {t}");
    }

    [Test]
    public void WarmUpOutsideZeroToOneIsRefused()
    {
        var schema = NeuralTrainerOptions.Schema;
        Assert.That(() => schema.Parse(new Dictionary<string, string> { ["warmup"] = "1" }),
            Throws.ArgumentException.With.Message.Contains("warmup"));
    }
}
