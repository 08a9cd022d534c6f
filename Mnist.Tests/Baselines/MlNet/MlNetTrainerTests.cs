using System.Diagnostics;
using Microsoft.ML;
using Mnist.Baselines;
using Mnist.Baselines.MlNet;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Tests.Baselines.MlNet;

/// <summary>ML.NET's trainers in our catalog, on 2,000 MNIST images: accuracy, model files, cancellation, and our trainers as ML.NET estimators.</summary>
[TestFixture]
public sealed class MlNetTrainerTests
{
    private static readonly TrainerCatalog Catalog = new TrainerCatalog().AddMlNetTrainers();
    private static DigitDataView Train => TestData.Mnist.Train.Take(2000);
    private static DigitDataView Test => TestData.Mnist.Test!.Take(1000);

    private static readonly (string Name, double Floor, Dictionary<string, string> Quick)[] Trainers =
    [
        ("mlnet-maxent", 0.84, new() { ["max-iterations"] = "100" }),
        ("mlnet-sdca", 0.80, new() { ["max-iterations"] = "10" }),
        ("mlnet-linear-svm", 0.78, new()),
        ("mlnet-fasttree", 0.82, new() { ["trees"] = "20" }),
        ("mlnet-lightgbm", 0.85, new() { ["iterations"] = "30" }),
    ];

    private static IEnumerable<TestCaseData> Cases() => Trainers.Select(t => new TestCaseData(t.Name, t.Floor, t.Quick).SetArgDisplayNames(t.Name));

    [Test]
    public void CatalogHasTheFiveMlNetTrainersOnTheMlNetEngine()
    {
        Assert.That(Catalog.Names, Is.EqualTo(Trainers.Select(t => t.Name)));
        Assert.That(Catalog.Registrations.Select(r => r.Engine), Has.All.EqualTo("ML.NET 5.0.1"));
        Assert.That(new TrainerCatalog().AddBaselines().Registrations.Select(r => r.Engine), Has.All.EqualTo("own"));
    }

    [TestCaseSource(nameof(Cases))]
    public void FitsReachesAFloorAndItsModelFileGivesTheSamePredictions(string name, double floor, Dictionary<string, string> quick)
    {
        var trainer = Catalog.Create(name, quick);
        var reports = new List<TrainingProgress>();
        var model = trainer.Fit(Train, validation: TestData.Mnist.Train.Subset([.. Enumerable.Range(50_000, 500)]), progress: new SynchronousProgress(reports.Add));
        var metrics = Evaluator.Evaluate(model, Test);
        Assert.That(metrics.Accuracy, Is.GreaterThan(floor), $"{name} test accuracy");
        Assert.That(model.Engine, Is.EqualTo("ML.NET 5.0.1"));
        Assert.That(reports[^1].Fraction, Is.EqualTo(1.0));

        var probabilities = model.PredictProbabilities(Test);
        for (int row = 0; row < Test.Count; row++)
            Assert.That(probabilities.AsSpan(row * 10, 10).ToArray().Sum(), Is.EqualTo(1f).Within(1e-4), $"row {row} sums to one");

        string path = Path.Combine(TestData.NewTempFolder(), name + ".model");
        ModelFile.Save(model, path);
        var loaded = ModelFile.Load(path, Catalog);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.TrainerName, Is.EqualTo(name));
            Assert.That(loaded.Hyperparameters, Is.EqualTo(trainer.Hyperparameters), "the same names, values and types (ints stay ints)");
            Assert.That(loaded.PredictProbabilities(Test), Is.EqualTo(probabilities), "identical probabilities after save and load");
        });
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    // mlnet-sdca runs on one thread whatever --threads says: ML.NET's multi-threaded SDCA is not reproducible.
    [TestCase("mlnet-lightgbm", "iterations", "10")]
    [TestCase("mlnet-sdca", "max-iterations", "10")]
    public void SameSeedGivesTheSameModel(string name, string rounds, string value)
    {
        float[] Fit() => Catalog.Create(name, new Dictionary<string, string> { [rounds] = value, ["seed"] = "5" }).Fit(Train).PredictProbabilities(Test);
        var first = Fit();
        var second = Fit();
        Assert.That(second, Is.EqualTo(first));
    }

    [TestCase("mlnet-fasttree", "trees=5000", 2000)]
    [TestCase("mlnet-sdca", "max-iterations=1000000,tolerance=1e-12", 2000)]
    [TestCase("mlnet-maxent", "tolerance=1e-12", 30000)]
    [TestCase("mlnet-linear-svm", "iterations=100000", 2000)]
    [TestCase("mlnet-lightgbm", "iterations=20000", 2000)]
    public void CancellationStopsAFitInProgress(string name, string settings, int images)
    {
        var train = TestData.Mnist.Train.Take(images);
        var trainer = Catalog.Create(name, settings.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]));
        using var cancellation = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var started = new ManualResetEventSlim();
        var progress = new SynchronousProgress(_ => started.Set());
        var fit = Task.Run(() => trainer.Fit(train, progress: progress, cancellationToken: cancellation.Token));
        SpinWait.SpinUntil(() => started.IsSet || fit.IsCompleted, TimeSpan.FromSeconds(60));
        Assert.That(fit.IsCompleted, Is.False, $"the fit was still running when cancelled ({fit.Exception?.InnerException?.Message})");
        cancellation.Cancel();
        var cancelledAt = clock.Elapsed;
        var error = Assert.CatchAsync<OperationCanceledException>(async () => await fit);
        Assert.That(error!.CancellationToken, Is.EqualTo(cancellation.Token));
        // A hang guard, not a timing target: an uncancelled fit of this size runs for minutes.
        Assert.That((clock.Elapsed - cancelledAt).TotalSeconds, Is.LessThan(30), "stopped soon after the signal");
    }

    [Test]
    public void UnknownOrOutOfRangeHyperparametersAreRefused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => Catalog.Create("mlnet-fasttree", new Dictionary<string, string> { ["leaves"] = "1" }),
                Throws.ArgumentException.With.Message.Contains("'leaves' must be in 2..100000"));
            Assert.That(() => Catalog.Create("mlnet-sdca", new Dictionary<string, string> { ["epochs"] = "3" }),
                Throws.ArgumentException.With.Message.Contains("no hyperparameter 'epochs'"));
        });
    }

    [Test]
    public void OurTrainerAsAnMlNetEstimatorScoresLikeOurEvaluator()
    {
        var trainer = new TrainerCatalog().AddBaselines().Create("logreg", new Dictionary<string, string> { ["max-iterations"] = "30" });
        var ml = new MLContext(1);
        var transformer = new DigitClassifierEstimator(trainer).Fit(Train);
        var scored = transformer.Transform(Test);
        Assert.That(scored.Schema.Select(c => c.Name), Is.EqualTo(new[] { "Label", "Features", "ImageId", "Score", "PredictedLabel" }));
        var mlMetrics = ml.MulticlassClassification.Evaluate(scored);
        var ours = Evaluator.Evaluate(transformer.Model, Test);
        Assert.Multiple(() =>
        {
            Assert.That(ours.Accuracy, Is.GreaterThan(0.8));
            Assert.That(mlMetrics.MicroAccuracy, Is.EqualTo(ours.Accuracy).Within(1e-12));
            Assert.That(mlMetrics.LogLoss, Is.EqualTo(ours.LogLoss!.Value).Within(1e-4));
        });

        // Data an ML.NET user holds (not our view) goes through FromDataView, here after an ML.NET transform.
        var foreign = ml.Data.LoadFromEnumerable(Enumerable.Range(0, Test.Count).Select(i => new ForeignRow { Digit = Test.GetLabel(i), Pixels = Test.GetImage(i).ToArray() }));
        var renamed = ml.Transforms.CopyColumns("Features", "Pixels").Fit(foreign).Transform(foreign);
        var fromForeign = transformer.Transform(renamed);
        int correct = 0;
        using (var cursor = fromForeign.GetRowCursor(fromForeign.Schema))
        {
            var digit = cursor.GetGetter<int>(fromForeign.Schema["Digit"]);
            var predicted = cursor.GetGetter<uint>(fromForeign.Schema["PredictedLabel"]);
            while (cursor.MoveNext())
            {
                int d = 0;
                uint key = 0;
                digit(ref d);
                predicted(ref key);
                if (key == d + 1) correct++;
            }
        }
        Assert.That((double)correct / Test.Count, Is.EqualTo(ours.Accuracy).Within(1e-12));
    }

    private sealed class ForeignRow
    {
        public int Digit { get; set; }
        [Microsoft.ML.Data.VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    /// <summary>IProgress that calls back on the reporting thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        private readonly Lock _lock = new();
        public void Report(TrainingProgress value)
        {
            lock (_lock) report(value);
        }
    }
}
