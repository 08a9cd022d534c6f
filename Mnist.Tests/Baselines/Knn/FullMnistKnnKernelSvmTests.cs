using System.Diagnostics;
using Mnist.Baselines;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Tests.Baselines.Knn;

/// <summary>
/// Full-MNIST measurements of knn and kernel-svm: the 60k training set, or the runner's 54k after a 10%
/// stratified hold-out, against the 10k test set. Explicit (each takes tens of seconds):
/// <c>dotnet test Mnist.Tests -c Release --filter "FullyQualifiedName~FullMnistKnnKernelSvmTests"</c>.
/// </summary>
[TestFixture]
[Explicit("Full-MNIST fit and predict; takes tens of seconds")]
[Category("FullMnist")]
public sealed class FullMnistKnnKernelSvmTests
{
    [TestCase("knn", "", false, 0.970)]
    [TestCase("knn", "", true, 0.970)]
    [TestCase("knn", "weighting=distance,k=4", true, 0.970)]
    [TestCase("knn", "pca-components=50", true, 0.970)]
    [TestCase("kernel-svm", "", true, 0.983)]
    [TestCase("kernel-svm", "", false, 0.983)]
    public void ReachesItsTestAccuracyTarget(string name, string parameters, bool holdOut, double target)
    {
        var overrides = parameters.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => p[1]);
        var train = BaselineTestData.FullTrain;
        DigitDataView fitData = train, validation = train.Take(0);
        if (holdOut)
        {
            var (trainIndices, validationIndices) = Splits.StratifiedTrainValidation(train, 0.1, 42);
            fitData = train.Subset(trainIndices).Materialize();
            validation = train.Subset(validationIndices).Materialize();
        }
        var trainer = new TrainerCatalog().AddBaselines().Create(name, overrides);

        var clock = Stopwatch.StartNew();
        var model = trainer.Fit(fitData, null, new Progress());
        double fitSeconds = clock.Elapsed.TotalSeconds;
        double best = double.MaxValue;
        ClassificationMetrics test = null!;
        for (int run = 0; run < 3; run++)
        {
            clock.Restart();
            test = Evaluator.Evaluate(model, BaselineTestData.FullTest);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        string validationText = validation.Count > 0 ? $"validation {Evaluator.Evaluate(model, validation).Accuracy:P2}, " : "";
        TestContext.Out.WriteLine(
            $"{name} {string.Join(", ", trainer.Hyperparameters.Select(kv => $"{kv.Key}={kv.Value}"))} on {fitData.Count}: " +
            $"{validationText}test {test.Accuracy:P2}, fit {fitSeconds:F1} s, predict 10k best of 3 {best:F2} s");
        Assert.That(test.Accuracy, Is.GreaterThanOrEqualTo(target));
    }

    private sealed class Progress : IProgress<TrainingProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Report(TrainingProgress value) => TestContext.Progress.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:F1} s] {value.Stage}");
    }
}
