using Mnist.Baselines;
using Mnist.Baselines.KernelSvm;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Tests.Baselines.KernelSvm;

[TestFixture]
public sealed class KernelSvmTests
{
    private const int Classes = DigitDataView.ClassCount;

    private KernelSvmModel _model = null!;

    [OneTimeSetUp]
    public void FitOnSmallSubset() =>
        _model = (KernelSvmModel)new KernelSvmTrainer().Fit(BaselineTestData.SmallTrain, BaselineTestData.SmallTest.Take(300));

    private static double DirectKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double gamma)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++) sum += (a[j] - (double)b[j]) * (a[j] - (double)b[j]);
        return Math.Exp(-gamma * sum);
    }

    private static float[] RandomRows(int count, int dims, int seed)
    {
        var random = new Random(seed);
        var rows = new float[count * dims];
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)random.NextDouble();
        return rows;
    }

    [Test]
    public void KernelBlocksMatchDirectEvaluation()
    {
        // 700 rows: more than one 512-row block of the symmetric kernel.
        const int n = 700, m = 37, dims = 20;
        const float gamma = 0.3f;
        float[] a = RandomRows(n, dims, 1), b = RandomRows(m, dims, 2);
        var aNorms = Kernels.SquaredNorms(a, n, dims);
        var bNorms = Kernels.SquaredNorms(b, m, dims);

        var cross = new float[n * m];
        RbfKernel.Block(a, aNorms, n, b, bNorms, m, dims, gamma, cross, m);
        var full = new float[n * n];
        RbfKernel.Symmetric(a, aNorms, n, dims, gamma, full);

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
                Assert.That(cross[i * m + j], Is.EqualTo(DirectKernel(a.AsSpan(i * dims, dims), b.AsSpan(j * dims, dims), gamma)).Within(2e-6));
            for (int j = 0; j < n; j += 7)
            {
                Assert.That(full[i * n + j], Is.EqualTo(DirectKernel(a.AsSpan(i * dims, dims), a.AsSpan(j * dims, dims), gamma)).Within(2e-6));
                Assert.That(full[i * n + j], Is.EqualTo(full[j * n + i]), "exactly symmetric");
            }
            Assert.That(full[i * n + i], Is.EqualTo(1f));
        }
    }

    [TestCase(100.0, 0.4, 1 / 0.6)]   // free: α = 2/(K₁₁ + K₂₂ − 2K₁₂) = 1/(1 − k)
    [TestCase(0.5, 0.4, 0.5)]         // bounded by C
    public void TwoPointProblemHasTheClosedFormSolution(double c, double k, double expectedAlpha)
    {
        var kernel = new[] { 1f, (float)k, (float)k, 1f };
        var solver = new SmoSolver(kernel, [1, -1], c, 1e-9);

        Assert.That(solver.Run(100), Is.True);
        Assert.That(solver.Alpha.ToArray(), Is.EqualTo(new[] { expectedAlpha, expectedAlpha }).Within(1e-6).AsCollection);
        Assert.That(solver.Rho(), Is.EqualTo(0).Within(1e-9), "symmetric problem: no offset");
    }

    [Test]
    public void SmoSatisfiesTheKktConditionsOnARandomProblem()
    {
        const int n = 120, dims = 5;
        const double c = 2, tolerance = 1e-5;
        float[] x = RandomRows(n, dims, 3);
        var y = new sbyte[n];
        for (int i = 0; i < n; i++) y[i] = x[i * dims] + x[i * dims + 1] + 0.3 * Math.Sin(7 * x[i * dims + 2]) > 1 ? (sbyte)1 : (sbyte)-1;
        var kernel = new float[n * n];
        RbfKernel.Symmetric(x, Kernels.SquaredNorms(x, n, dims), n, dims, 2f, kernel);

        var solver = new SmoSolver(kernel, y, c, tolerance);
        Assert.That(solver.Run(1_000_000), Is.True);
        var alpha = solver.Alpha.ToArray();
        double rho = solver.Rho();

        Assert.That(Enumerable.Range(0, n).Sum(i => alpha[i] * y[i]), Is.EqualTo(0).Within(1e-9));
        Assert.That(alpha, Has.All.InRange(0.0, c));
        Assert.That(alpha.Count(a => a > 0 && a < c), Is.GreaterThan(0), "some free support vectors");
        for (int i = 0; i < n; i++)
        {
            double f = -rho;
            for (int j = 0; j < n; j++) f += alpha[j] * y[j] * kernel[i * n + j];
            double margin = y[i] * f;
            // ε bounds the violation gap of the whole problem, so each margin is within ~ε of its KKT condition.
            if (alpha[i] == 0) Assert.That(margin, Is.GreaterThanOrEqualTo(1 - 2 * tolerance), $"α{i} = 0");
            else if (alpha[i] == c) Assert.That(margin, Is.LessThanOrEqualTo(1 + 2 * tolerance), $"α{i} = C");
            else Assert.That(margin, Is.EqualTo(1).Within(2 * tolerance), $"α{i} free");
        }
    }

    [Test]
    public void DecisionValuesMatchADirectSolveOfEachPair()
    {
        // Three classes on 12 pixels; pair (0, 2) solved directly and its decision function evaluated in double.
        var data = BaselineTestData.Random(90, 3, 4, seed: 5);
        var labels = data.GetLabels();
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)(labels[i] % 3);
        data = new DigitDataView(3, 4, data.ContiguousPixels.ToArray(), labels);
        var options = new KernelSvmOptions { Gamma = 0.5, C = 3, Tolerance = 1e-6 };
        var model = (KernelSvmModel)new KernelSvmTrainer(options).Fit(data);
        var queries = BaselineTestData.Random(25, 3, 4, seed: 6);

        int[] members = Enumerable.Range(0, data.Count).Where(i => labels[i] is 0).Concat(Enumerable.Range(0, data.Count).Where(i => labels[i] is 2)).ToArray();
        int n = members.Length, d = 12;
        var kernel = new float[n * n];
        var rows = new float[n * d];
        data.GatherPixels(members, rows);
        RbfKernel.Symmetric(rows, Kernels.SquaredNorms(rows, n, d), n, d, 0.5f, kernel);
        var y = members.Select(i => labels[i] == 0 ? (sbyte)1 : (sbyte)-1).ToArray();
        var solver = new SmoSolver(kernel, y, 3, 1e-6);
        solver.Run(1_000_000);
        double rho = solver.Rho();

        float[] decisions = model.DecisionValues(queries);
        int pair = KernelSvmModel.PairIndex(0, 2);
        for (int q = 0; q < queries.Count; q++)
        {
            double f = -rho;
            for (int i = 0; i < n; i++) f += solver.Alpha[i] * y[i] * DirectKernel(data.GetImage(members[i]), queries.GetImage(q), 0.5);
            Assert.That(decisions[q * 45 + pair], Is.EqualTo(f).Within(1e-4), $"query {q}");
        }
        // Classes 3..9 are absent: their pairs vote for the present class.
        Assert.That(model.Predict(queries), Has.All.InRange(0, 2));
    }

    [Test]
    public void PairIndexEnumeratesThe45PairsInOrder()
    {
        int expected = 0;
        for (int a = 0; a < Classes; a++)
            for (int b = a + 1; b < Classes; b++)
                Assert.That(KernelSvmModel.PairIndex(a, b), Is.EqualTo(expected++));
    }

    [Test]
    public void ScoresAreVotesPlusBoundedConfidence()
    {
        var test = BaselineTestData.SmallTest.Take(100);
        float[] scores = _model.Scores(test);
        float[] decisions = _model.DecisionValues(test);
        for (int i = 0; i < test.Count; i++)
        {
            var votes = new int[Classes];
            int p = 0;
            for (int a = 0; a < Classes; a++)
                for (int b = a + 1; b < Classes; b++, p++) votes[decisions[i * 45 + p] > 0 ? a : b]++;
            for (int c = 0; c < Classes; c++)
                Assert.That(scores[i * Classes + c] - votes[c], Is.InRange(-1 / 3.0, 1 / 3.0));
        }
        var probabilities = _model.PredictProbabilities(test);
        Kernels.SoftmaxRows(scores, Classes);
        Assert.That(probabilities, Is.EqualTo(scores).AsCollection);
    }

    [Test]
    public void ReachesTheAccuracyFloorOnARealSubset()
    {
        var metrics = Evaluator.Evaluate(_model, BaselineTestData.SmallTest.Take(1000));
        TestContext.Out.WriteLine($"kernel-svm on 5000: {metrics.Accuracy:P2}, {_model.SupportVectorCount} support vectors");
        // 5000 training images, first 1000 test images: measured 0.948 (54k training images: 0.9855 on the whole test set).
        Assert.That(metrics.Accuracy, Is.GreaterThanOrEqualTo(0.935));
        Assert.That(metrics.LogLoss, Is.Null);
        Assert.That(_model.History!.Epochs[0].ValidationAccuracy, Is.Not.Null);
    }

    [Test]
    public void SaveThenLoadGivesBitIdenticalProbabilities()
    {
        var (loaded, fileBytes) = BaselineTestData.SaveAndLoad(_model);

        Assert.That(loaded, Is.TypeOf<KernelSvmModel>());
        Assert.That(loaded.HasCalibratedProbabilities, Is.False);
        Assert.That(loaded.Hyperparameters, Is.EquivalentTo(_model.Hyperparameters));
        var test = BaselineTestData.SmallTest.Take(500);
        Assert.That(loaded.PredictProbabilities(test), Is.EqualTo(_model.PredictProbabilities(test)).AsCollection);
        // Support vectors are raw pixels, stored as bytes: S × (784 + 45·4) bytes plus a little.
        Assert.That(fileBytes, Is.LessThan(_model.SupportVectorCount * (784 + 45 * 4) + 10_000));
    }

    [Test]
    public void SameDataGivesIdenticalModelsWhateverTheThreadCount()
    {
        var data = BaselineTestData.SmallTrain.Take(1500);
        var test = BaselineTestData.SmallTest.Take(300);
        float[] single, parallel, three;
        using (ComputeThreads.Use(1)) single = new KernelSvmTrainer().Fit(data).PredictProbabilities(test);
        using (ComputeThreads.Use(2)) parallel = new KernelSvmTrainer().Fit(data).PredictProbabilities(test);
        using (ComputeThreads.Use(3)) three = new KernelSvmTrainer().Fit(data).PredictProbabilities(test);
        Assert.That(parallel, Is.EqualTo(single).AsCollection);
        Assert.That(three, Is.EqualTo(single).AsCollection);
    }

    [Test]
    public void LoadRejectsNonsenseAndFitHonoursCancellation()
    {
        byte[] payload = BaselineTestData.Payload(_model);
        Assert.That(() => KernelSvmModel.Load(new BinaryReader(new MemoryStream(payload[..^5]))),
            Throws.InstanceOf<InvalidDataException>().Or.InstanceOf<EndOfStreamException>());

        // Support-vector count (after version 4, the options' JSON string, pixel count 4) set absurdly high.
        byte[] options = BaselineTestData.PayloadString(KernelSvmOptions.Schema.ToJson(_model.Options));
        byte[] corrupt = (byte[])payload.Clone();
        int countOffset = 4 + options.Length + 4;
        Assert.That(BitConverter.ToInt32(corrupt, countOffset), Is.EqualTo(_model.SupportVectorCount));
        BitConverter.GetBytes(int.MaxValue).CopyTo(corrupt, countOffset);
        Assert.That(() => KernelSvmModel.Load(new BinaryReader(new MemoryStream(corrupt))), Throws.InstanceOf<InvalidDataException>());

        // A negative γ in the stored options.
        string negative = KernelSvmOptions.Schema.ToJson(_model.Options with { Gamma = 0.5 }).Replace("0.5", "-1", StringComparison.Ordinal);
        corrupt = [.. payload[..4], .. BaselineTestData.PayloadString(negative), .. payload[(4 + options.Length)..]];
        Assert.That(() => KernelSvmModel.Load(new BinaryReader(new MemoryStream(corrupt))),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'gamma'"));

        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        Assert.That(() => new KernelSvmTrainer().Fit(BaselineTestData.SmallTrain.Take(200), null, null, cancellation.Token),
            Throws.InstanceOf<OperationCanceledException>());
    }
}
