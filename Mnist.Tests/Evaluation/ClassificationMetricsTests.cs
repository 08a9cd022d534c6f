using Mnist.Core.Evaluation;

namespace Mnist.Tests.Evaluation;

public class ClassificationMetricsTests
{
    [Test]
    public void HandComputedThreeClassExample()
    {
        // true:      0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2
        // confusion: [[2,1,0],[0,1,1],[0,0,1]]
        int[] truth = [0, 0, 0, 1, 1, 2];
        int[] predicted = [0, 0, 1, 1, 2, 2];
        var m = Evaluator.FromPredictions(truth, predicted, classCount: 3);
        Assert.Multiple(() =>
        {
            Assert.That(m.Accuracy, Is.EqualTo(4.0 / 6));
            Assert.That(m.ConfusionMatrix(), Is.EqualTo(new[] { new[] { 2, 1, 0 }, new[] { 0, 1, 1 }, new[] { 0, 0, 1 } }));
            // class 0: P = 2/2, R = 2/3, F1 = 0.8
            Assert.That(m.PerClass[0].Precision, Is.EqualTo(1.0));
            Assert.That(m.PerClass[0].Recall, Is.EqualTo(2.0 / 3).Within(1e-12));
            Assert.That(m.PerClass[0].F1, Is.EqualTo(0.8).Within(1e-12));
            // class 1: P = 1/2, R = 1/2, F1 = 0.5
            Assert.That(m.PerClass[1].F1, Is.EqualTo(0.5).Within(1e-12));
            // class 2: P = 1/2, R = 1, F1 = 2/3
            Assert.That(m.PerClass[2].Precision, Is.EqualTo(0.5));
            Assert.That(m.PerClass[2].F1, Is.EqualTo(2.0 / 3).Within(1e-12));
            Assert.That(m.PerClass.Select(c => c.Support), Is.EqualTo(new[] { 3, 2, 1 }));
            Assert.That(m.MacroF1, Is.EqualTo((0.8 + 0.5 + 2.0 / 3) / 3).Within(1e-12));
            Assert.That(m.LogLoss, Is.Null);
            Assert.That(m.MostConfusedPairs(2), Is.EqualTo(new[] { (0, 1, 1), (1, 2, 1) }));
        });
    }

    [Test]
    public void LogLossFromProbabilities()
    {
        int[] truth = [0, 1];
        float[] probabilities = [0.8f, 0.2f, 0.4f, 0.6f];
        var m = Evaluator.FromProbabilities(truth, probabilities, calibrated: true, classCount: 2);
        Assert.Multiple(() =>
        {
            Assert.That(m.Accuracy, Is.EqualTo(1.0));
            Assert.That(m.LogLoss!.Value, Is.EqualTo(-(Math.Log(0.8f) + Math.Log(0.6f)) / 2).Within(1e-7));
            Assert.That(Evaluator.FromProbabilities(truth, probabilities, calibrated: false, classCount: 2).LogLoss, Is.Null);
        });
    }

    [Test]
    public void ZeroProbabilityIsClippedNotInfinite()
    {
        var m = Evaluator.FromProbabilities([1], [1f, 0f], true, 2);
        Assert.That(m.LogLoss!.Value, Is.EqualTo(-Math.Log(Evaluator.ProbabilityFloor)).Within(1e-9));
    }

    [Test]
    public void ClassNeverPredictedHasZeroPrecision()
    {
        var m = Evaluator.FromPredictions([0, 1], [0, 0], 2);
        Assert.Multiple(() =>
        {
            Assert.That(m.PerClass[1].Precision, Is.Zero);
            Assert.That(m.PerClass[1].F1, Is.Zero);
            Assert.That(m.PerClass[0].Precision, Is.EqualTo(0.5));
        });
    }
}
