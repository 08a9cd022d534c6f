using Mnist.Core.Data;

namespace Mnist.Tests.Data;

public class SplitsTests
{
    [Test]
    public void TrainValidationSplitKeepsEachClassShareAndIsSeeded()
    {
        var train = TestData.Mnist.Train;
        var (trainIdx, validationIdx) = Splits.StratifiedTrainValidation(train, 0.1, seed: 42);
        int[] all = train.ClassCounts();
        int[] inValidation = train.Subset(validationIdx).ClassCounts();
        Assert.Multiple(() =>
        {
            Assert.That(trainIdx.Length + validationIdx.Length, Is.EqualTo(60000));
            Assert.That(trainIdx.Concat(validationIdx).Distinct().Count(), Is.EqualTo(60000));
            for (int c = 0; c < 10; c++)
                Assert.That(inValidation[c], Is.EqualTo((int)Math.Round(all[c] * 0.1, MidpointRounding.AwayFromZero)), $"class {c}");
            Assert.That(Splits.StratifiedTrainValidation(train, 0.1, 42).Validation, Is.EqualTo(validationIdx));
            Assert.That(Splits.StratifiedTrainValidation(train, 0.1, 43).Validation, Is.Not.EqualTo(validationIdx));
        });
    }

    [Test]
    public void ZeroFractionPutsEverythingInTraining()
    {
        var view = TestData.Mnist.Test!.Take(100);
        var (trainIdx, validationIdx) = Splits.StratifiedTrainValidation(view, 0, 1);
        Assert.Multiple(() =>
        {
            Assert.That(trainIdx, Has.Length.EqualTo(100));
            Assert.That(validationIdx, Is.Empty);
        });
    }

    [Test]
    public void KFoldPartitionsTheDataAndStratifies()
    {
        var view = TestData.Mnist.Test!.Take(1003);
        var folds = Splits.StratifiedKFold(view, 5, seed: 7);
        int[] all = view.ClassCounts();
        Assert.That(folds, Has.Count.EqualTo(5));
        var validationUnion = folds.SelectMany(f => f.Validation).Order().ToArray();
        Assert.That(validationUnion, Is.EqualTo(Enumerable.Range(0, 1003)));
        foreach (var (trainIdx, validationIdx) in folds)
        {
            Assert.That(trainIdx.Intersect(validationIdx), Is.Empty);
            Assert.That(trainIdx.Length + validationIdx.Length, Is.EqualTo(1003));
            int[] counts = view.Subset(validationIdx).ClassCounts();
            for (int c = 0; c < 10; c++)
                Assert.That(counts[c], Is.InRange(all[c] / 5 - 1, all[c] / 5 + 1), $"class {c}");
        }
    }
}
