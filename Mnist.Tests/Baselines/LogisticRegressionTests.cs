using Mnist.Baselines;
using Mnist.Baselines.LogisticRegression;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Tests.Baselines;

[TestFixture]
public sealed class LogisticRegressionTests
{
    private const int Classes = DigitDataView.ClassCount;
    private static readonly LogisticRegressionOptions SmallOptions = new() { L2 = 1e-3, MaxIterations = 60 };

    private LogisticRegressionModel _model = null!;
    private List<TrainingProgress> _reports = null!;

    [OneTimeSetUp]
    public void FitOnSmallSubset()
    {
        _reports = [];
        var progress = new SynchronousProgress(_reports.Add);
        _model = (LogisticRegressionModel)new LogisticRegressionTrainer(SmallOptions)
            .Fit(BaselineTestData.SmallTrain, BaselineTestData.SmallTest.Take(500), progress);
    }

    /// <summary>
    /// The objective in plain float64 loops, in the same parametrisation (centred features):
    /// (1/n) Σ −log softmax((xᵢ − μ)W + b')_{yᵢ} + (λ/2)‖W‖².
    /// </summary>
    private static double ReferenceLoss(DigitDataView data, double l2, ReadOnlySpan<double> theta)
    {
        int n = data.Count, d = data.PixelCount;
        var mean = new double[d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) mean[j] += data.GetImage(i)[j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        double loss = 0;
        var scores = new double[Classes];
        for (int i = 0; i < n; i++)
        {
            var x = data.GetImage(i);
            for (int k = 0; k < Classes; k++)
            {
                double s = theta[d * Classes + k];
                for (int j = 0; j < d; j++) s += (x[j] - mean[j]) * theta[j * Classes + k];
                scores[k] = s;
            }
            double max = scores.Max();
            double sum = scores.Sum(s => Math.Exp(s - max));
            loss += Math.Log(sum) + max - scores[data.GetLabel(i)];
        }
        double penalty = 0;
        for (int i = 0; i < d * Classes; i++) penalty += theta[i] * theta[i];
        return loss / n + 0.5 * l2 * penalty;
    }

    [Test]
    public void GradientMatchesCentralDifferencesOfTheFloat64Objective()
    {
        var data = BaselineTestData.Random(count: 23, height: 2, width: 3, seed: 5);
        const double l2 = 0.05;
        var objective = new SoftmaxObjective(data, l2);
        var random = new Random(11);
        var theta = new double[objective.ParameterCount];
        for (int i = 0; i < theta.Length; i++) theta[i] = random.NextDouble() * 2 - 1;

        var gradient = new double[theta.Length];
        double value = objective.Evaluate(theta, gradient);

        Assert.That(value, Is.EqualTo(ReferenceLoss(data, l2, theta)).Within(1e-6), "float32 objective vs float64 reference");
        const double h = 1e-5;
        var plus = (double[])theta.Clone();
        var minus = (double[])theta.Clone();
        for (int i = 0; i < theta.Length; i++)
        {
            plus[i] = theta[i] + h;
            minus[i] = theta[i] - h;
            double numeric = (ReferenceLoss(data, l2, plus) - ReferenceLoss(data, l2, minus)) / (2 * h);
            plus[i] = minus[i] = theta[i];
            Assert.That(gradient[i], Is.EqualTo(numeric).Within(2e-6 + 1e-4 * Math.Abs(numeric)), $"∂f/∂θ[{i}]");
        }
    }

    [Test]
    public void GradientMatchesCentralDifferencesOfTheFloat32ObjectiveItself()
    {
        // The same check on the production code path (float32 GEMMs), with a step large enough to beat its rounding.
        var data = BaselineTestData.Random(count: 17, height: 3, width: 3, seed: 8);
        var objective = new SoftmaxObjective(data, l2: 0.01);
        var random = new Random(3);
        var theta = new double[objective.ParameterCount];
        for (int i = 0; i < theta.Length; i++) theta[i] = random.NextDouble() - 0.5;
        var gradient = new double[theta.Length];
        objective.Evaluate(theta, gradient);

        var scratch = new double[theta.Length];
        const double h = 1e-2;
        for (int i = 0; i < theta.Length; i++)
        {
            double saved = theta[i];
            theta[i] = saved + h;
            double up = objective.Evaluate(theta, scratch);
            theta[i] = saved - h;
            double down = objective.Evaluate(theta, scratch);
            theta[i] = saved;
            Assert.That(gradient[i], Is.EqualTo((up - down) / (2 * h)).Within(1e-4), $"∂f/∂θ[{i}]");
        }
    }

    [Test]
    public void FoldingTheCentringIntoTheBiasGivesTheSameScores()
    {
        var data = BaselineTestData.Random(count: 12, height: 2, width: 2, seed: 1);
        var objective = new SoftmaxObjective(data, l2: 0);
        var theta = Enumerable.Range(0, objective.ParameterCount).Select(i => Math.Sin(i)).ToArray();
        var weights = objective.ToWeights(theta);
        var scores = new float[data.Count * Classes];
        weights.Scores(data, scores);

        // softmax(scores) must reproduce the objective's data loss.
        double loss = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var row = scores.AsSpan(i * Classes, Classes).ToArray().Select(v => (double)v).ToArray();
            double max = row.Max();
            loss += Math.Log(row.Sum(s => Math.Exp(s - max))) + max - row[data.GetLabel(i)];
        }
        objective.Evaluate(theta, new double[theta.Length]);
        Assert.That(loss / data.Count, Is.EqualTo(objective.LastDataLoss).Within(1e-5));
    }

    [Test]
    public void ReachesTheAccuracyFloorOnARealSubset()
    {
        var metrics = Evaluator.Evaluate(_model, BaselineTestData.SmallTest);
        // Trained on the first 5000 training images; the first 2000 test images are the harder part for such
        // a small model (measured 0.8775; the full-data fit reaches about 0.92 on the whole test set).
        Assert.That(metrics.Accuracy, Is.GreaterThanOrEqualTo(0.86));
        Assert.That(metrics.LogLoss, Is.Not.Null.And.LessThan(0.45));
    }

    [Test]
    public void ReportsOneEpochRecordPerIteration()
    {
        var epochs = _reports.Where(r => r.Epoch is not null).Select(r => r.Epoch!).ToList();
        Assert.That(_model.History, Is.Not.Null);
        Assert.That(_model.History!.Epochs, Has.Count.EqualTo(epochs.Count).And.Count.GreaterThan(10));
        Assert.That(epochs.Select(e => e.Epoch), Is.EqualTo(Enumerable.Range(1, epochs.Count)));
        Assert.That(epochs.Select(e => e.ValidationAccuracy), Has.All.Not.Null);
        Assert.That(epochs[^1].TrainLoss, Is.LessThan(epochs[0].TrainLoss));
        Assert.That(_reports[^1].Fraction, Is.EqualTo(1.0));
        Assert.That(_reports.Any(r => r.Stage.StartsWith("L-BFGS iteration", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public void ProbabilitiesAreNormalisedAndMatchTheArgmaxOfTheScores()
    {
        var probabilities = _model.PredictProbabilities(BaselineTestData.SmallTest);
        for (int i = 0; i < BaselineTestData.SmallTest.Count; i += 97)
            Assert.That(probabilities.AsSpan(i * Classes, Classes).ToArray().Sum(), Is.EqualTo(1.0).Within(1e-5));
        Assert.That(_model.HasCalibratedProbabilities, Is.True);
    }

    [Test]
    public void PredictsAnIndexedSubsetLikeItsContiguousCopy()
    {
        var test = BaselineTestData.SmallTest;
        int[] positions = Enumerable.Range(0, 700).Select(i => (i * 37) % test.Count).ToArray();
        var subset = test.Subset(positions);
        Assert.That(subset.IsContiguous, Is.False);
        Assert.That(_model.PredictProbabilities(subset), Is.EqualTo(_model.PredictProbabilities(subset.Materialize())).AsCollection);
    }

    [Test]
    public void SaveThenLoadGivesBitIdenticalProbabilities()
    {
        var (loaded, _) = BaselineTestData.SaveAndLoad(_model);

        Assert.That(loaded, Is.TypeOf<LogisticRegressionModel>());
        Assert.That(loaded.TrainerName, Is.EqualTo("logreg"));
        Assert.That(loaded.Hyperparameters, Is.EquivalentTo(_model.Hyperparameters));
        var test = BaselineTestData.SmallTest;
        Assert.That(loaded.PredictProbabilities(test), Is.EqualTo(_model.PredictProbabilities(test)).AsCollection);
    }

    [Test]
    public void FitIsDeterministicAndIndependentOfTheThreadCount()
    {
        var data = BaselineTestData.SmallTrain.Take(1500);
        var trainer = new LogisticRegressionTrainer(new LogisticRegressionOptions { L2 = 1e-3, MaxIterations = 15 });
        LogisticRegressionModel single, parallel, again;
        using (ComputeThreads.Use(1)) single = (LogisticRegressionModel)trainer.Fit(data);
        using (ComputeThreads.Use(2))
        {
            parallel = (LogisticRegressionModel)trainer.Fit(data);
            again = (LogisticRegressionModel)trainer.Fit(data);
        }

        Assert.That(parallel.GetWeights(), Is.EqualTo(single.GetWeights()).AsCollection);
        Assert.That(parallel.GetBias(), Is.EqualTo(single.GetBias()).AsCollection);
        Assert.That(again.GetWeights(), Is.EqualTo(parallel.GetWeights()).AsCollection);
    }

    [Test]
    public void CancellationIsHonoured()
    {
        using var cancellation = new CancellationTokenSource();
        var reports = 0;
        var progress = new SynchronousProgress(_ => { if (++reports == 3) cancellation.Cancel(); });
        Assert.That(() => new LogisticRegressionTrainer(SmallOptions).Fit(BaselineTestData.SmallTrain.Take(1000), null, progress, cancellation.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(reports, Is.EqualTo(3));
    }

    [Test]
    public void LoadRejectsNonsenseDimensions()
    {
        byte[] payload = BaselineTestData.Payload(_model);
        // Class count field: after version (4), the options' JSON string and the feature count (4).
        int classesOffset = 4 + BaselineTestData.PayloadString(LogisticRegressionOptions.Schema.ToJson(_model.Options)).Length + 4;
        Assert.That(BitConverter.ToInt32(payload, classesOffset), Is.EqualTo(Classes));
        BitConverter.GetBytes(7).CopyTo(payload, classesOffset);
        Assert.That(() => LogisticRegressionModel.Load(new BinaryReader(new MemoryStream(payload))), Throws.InstanceOf<InvalidDataException>());

        BitConverter.GetBytes(-5).CopyTo(payload, classesOffset - 4);
        Assert.That(() => LogisticRegressionModel.Load(new BinaryReader(new MemoryStream(payload))), Throws.InstanceOf<InvalidDataException>());
    }
}
