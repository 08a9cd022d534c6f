using System.Diagnostics;
using Mnist.Baselines;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Tests.Baselines;

/// <summary>
/// Full-MNIST measurements of the default baselines (54k train after a 10% stratified hold-out, 10k
/// test). Explicit: each fit takes seconds to tens of seconds; run with
/// <c>dotnet test Mnist.Tests -c Release --filter "FullyQualifiedName~FullMnistBaselineTests"</c>.
/// </summary>
[TestFixture]
[Explicit("Full-MNIST fit; takes tens of seconds")]
[Category("FullMnist")]
public sealed class FullMnistBaselineTests
{
    [TestCase("logreg", 0.925)]
    [TestCase("linear-svm", 0.918)]
    public void DefaultTrainerReachesItsTestAccuracyTarget(string name, double target)
    {
        var train = BaselineTestData.FullTrain;
        var (trainIndices, validationIndices) = Splits.StratifiedTrainValidation(train, 0.1, 42);
        var fitData = train.Subset(trainIndices).Materialize();
        var validation = train.Subset(validationIndices).Materialize();
        var trainer = new TrainerCatalog().AddBaselines().Create(name);

        var clock = Stopwatch.StartNew();
        var model = trainer.Fit(fitData, validation);
        double fitSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var test = Evaluator.Evaluate(model, BaselineTestData.FullTest);
        double predictSeconds = clock.Elapsed.TotalSeconds;
        var trainMetrics = Evaluator.Evaluate(model, fitData);
        var validationMetrics = Evaluator.Evaluate(model, validation);

        TestContext.Out.WriteLine(
            $"{name} {string.Join(", ", trainer.Hyperparameters.Select(kv => $"{kv.Key}={kv.Value}"))}: " +
            $"train {trainMetrics.Accuracy:P2}, validation {validationMetrics.Accuracy:P2}, test {test.Accuracy:P2}, " +
            $"fit {fitSeconds:F1} s, predict 10k {predictSeconds:F3} s, {model.History?.Epochs.Count} iterations/epochs");
        Assert.That(test.Accuracy, Is.GreaterThanOrEqualTo(target));
    }
}
