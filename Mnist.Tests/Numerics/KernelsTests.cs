using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

[TestFixture]
public class KernelsTests
{
    private static readonly (int Rows, int Columns)[] MatrixShapes = [(1, 1), (1, 7), (7, 10), (31, 33), (33, 257), (257, 31), (1000, 10)];

    private static IEnumerable<TestCaseData> Shapes() =>
        MatrixShapes.Select(s => new TestCaseData(s.Rows, s.Columns).SetArgDisplayNames($"{s.Rows}x{s.Columns}"));

    private static float[] RandomMatrix(int rows, int columns, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows * columns).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static void AssertClose(float[] got, float[] want, double absTol, double relTol)
    {
        Assert.That(got, Has.Length.EqualTo(want.Length));
        for (int i = 0; i < got.Length; i++)
        {
            double tol = absTol + relTol * Math.Abs(want[i]);
            if (!(Math.Abs(got[i] - want[i]) <= tol))
                Assert.Fail($"element {i}: got {got[i]}, want {want[i]} (tolerance {tol})");
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void ArgMaxRows_MatchesReference(int rows, int columns)
    {
        float[] x = RandomMatrix(rows, columns, 1);
        if (columns > 3) x[2] = x[3] = 5f; // a tie: the first index wins
        Assert.That(Kernels.ArgMaxRows(x, columns), Is.EqualTo(ReferenceKernels.ArgMaxRows(x, columns)).AsCollection);
    }

    [Test]
    public void NormaliseToProbabilities_ScalesToOneIgnoringNegativesAndNaN()
    {
        float[] row = [2f, -1f, float.NaN, 6f];
        Kernels.NormaliseToProbabilities(row);
        Assert.That(row, Is.EqualTo(new[] { 0.25f, 0f, 0f, 0.75f }).AsCollection);

        float[] nothingPositive = [0f, -3f, float.NaN, -0f];
        Kernels.NormaliseToProbabilities(nothingPositive);
        Assert.That(nothingPositive, Is.EqualTo(new[] { 0.25f, 0.25f, 0.25f, 0.25f }).AsCollection);
    }

    [TestCaseSource(nameof(Shapes))]
    public void SoftmaxRows_MatchesReference(int rows, int columns)
    {
        float[] got = RandomMatrix(rows, columns, 2, 20f), want = (float[])got.Clone();
        Kernels.SoftmaxRows(got, columns);
        ReferenceKernels.SoftmaxRows(want, columns);
        AssertClose(got, want, 1e-7, 1e-5);
        for (int r = 0; r < rows; r++)
            Assert.That(got.Skip(r * columns).Take(columns).Sum(), Is.EqualTo(1f).Within(1e-4));
    }

    [TestCaseSource(nameof(Shapes))]
    public void LogSoftmaxRows_MatchesReference(int rows, int columns)
    {
        float[] got = RandomMatrix(rows, columns, 3, 50f), want = (float[])got.Clone();
        Kernels.LogSoftmaxRows(got, columns);
        ReferenceKernels.LogSoftmaxRows(want, columns);
        AssertClose(got, want, 1e-5, 1e-5);
    }

    [Test]
    public void LogSoftmaxRows_StaysFiniteWhereSoftmaxUnderflows()
    {
        float[] x = [0f, -200f, 100f];
        Kernels.LogSoftmaxRows(x, 3);
        Assert.That(x, Is.EqualTo(new[] { -100f, -300f, 0f }).Within(1e-4f));
    }

    [TestCaseSource(nameof(Shapes))]
    public void AddBiasRows_MatchesReference(int rows, int columns)
    {
        float[] got = RandomMatrix(rows, columns, 4), want = (float[])got.Clone();
        float[] bias = RandomMatrix(1, columns, 5);
        Kernels.AddBiasRows(got, bias);
        ReferenceKernels.AddBiasRows(want, bias);
        Assert.That(got, Is.EqualTo(want).AsCollection);
    }

    [TestCase(1, 1, 1, 1)]
    [TestCase(7, 31, 33, 1)]
    [TestCase(33, 257, 10, 2)]
    [TestCase(100, 60, 784, 2)]
    [TestCase(257, 7, 1, 1)]
    public void SquaredDistances_MatchesReference(int aRows, int bRows, int dims, int threads)
    {
        float[] a = RandomMatrix(aRows, dims, 6), b = RandomMatrix(bRows, dims, 7);
        // Make one pair identical: the expansion must not go negative there.
        Array.Copy(a, 0, b, 0, dims);
        float[] got = new float[aRows * bRows], want = new float[aRows * bRows];
        Kernels.SquaredDistances(a, aRows, b, bRows, dims, got, threads);
        ReferenceKernels.SquaredDistances(a, aRows, b, bRows, dims, want);
        Assert.That(got, Has.All.GreaterThanOrEqualTo(0f));
        for (int i = 0; i < aRows; i++)
            for (int j = 0; j < bRows; j++)
            {
                double norms = 0;
                for (int d = 0; d < dims; d++) norms += a[i * dims + d] * a[i * dims + d] + b[j * dims + d] * b[j * dims + d];
                Assert.That(got[i * bRows + j], Is.EqualTo(want[i * bRows + j]).Within(1e-5 * (norms + 1)), $"({i},{j})");
            }
    }

    [Test]
    public void ArgMaxRows_MatchesReferenceOnNaNsAndSignedZeros()
    {
        float nan = float.NaN;
        float[] x =
        [
            -0f, 0f, -1f,      // +0 counts above −0
            1f, nan, 2f,       // a NaN wins
            nan, 3f, nan,      // the first NaN
            2f, 2f, 1f,        // the first of a tie
            -5f, -3f, -3f,
        ];
        int[] got = Kernels.ArgMaxRows(x, 3);
        Assert.That(got, Is.EqualTo(ReferenceKernels.ArgMaxRows(x, 3)).AsCollection);
        Assert.That(got, Is.EqualTo(new[] { 1, 1, 0, 0, 1 }).AsCollection);
    }

    [TestCaseSource(nameof(Shapes))]
    public void LogLossFromScores_MatchesReference(int rows, int columns)
    {
        float[] x = RandomMatrix(rows, columns, 8, 20f);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.AsSpan(r * columns, columns);
            int label = r % columns;
            double want = ReferenceKernels.LogLossFromScores(row, label);
            Assert.That(Kernels.LogLossFromScores(row, label), Is.EqualTo(want).Within(1e-6 * (1 + want)), $"row {r}");
        }
    }

    [Test]
    public void LogLossFromScores_StaysFiniteWhereTheProbabilityUnderflows()
    {
        // softmax([0, 200])[0] = e^−200 underflows in float; the loss is exactly 200 up to rounding.
        Assert.That(Kernels.LogLossFromScores([0f, 200f], 0), Is.EqualTo(200.0).Within(1e-9));
    }

    [Test]
    public void LogLoss_IsMinusLogOfTheClampedProbability()
    {
        Assert.That(Kernels.LogLoss(1f), Is.EqualTo(0.0));
        Assert.That(Kernels.LogLoss(0.5f), Is.EqualTo(Math.Log(2)).Within(1e-15));
        Assert.That(Kernels.LogLoss(0f), Is.EqualTo(-Math.Log(Kernels.LogLossFloor)));
        Assert.That(Kernels.LogLoss(1.5f), Is.EqualTo(0.0));
    }

    [TestCase(7, 31, 33, 1f)]
    [TestCase(33, 257, 10, -0.5f)]
    [TestCase(100, 60, 784, -0.02f)]
    public void ScaledSquaredDistances_MatchesScaledReference(int aRows, int bRows, int dims, float scale)
    {
        float[] a = RandomMatrix(aRows, dims, 9), b = RandomMatrix(bRows, dims, 10);
        Array.Copy(a, 0, b, 0, dims); // an identical pair: the clamp must keep it at exactly 0
        const int Padding = 3;
        int ldd = bRows + Padding;
        var got = new float[aRows * ldd];
        Array.Fill(got, 42f);
        Kernels.ScaledSquaredDistances(a, Kernels.SquaredNorms(a, aRows, dims), aRows, b, Kernels.SquaredNorms(b, bRows, dims), bRows,
            dims, scale, got, ldd, threads: 2);
        var want = new float[aRows * bRows];
        ReferenceKernels.SquaredDistances(a, aRows, b, bRows, dims, want);
        for (int i = 0; i < aRows; i++)
        {
            for (int j = 0; j < bRows; j++)
            {
                float value = got[i * ldd + j];
                Assert.That(scale > 0 ? value >= 0f : value <= 0f, $"({i},{j}) = {value} is on the wrong side of 0");
                Assert.That(value, Is.EqualTo(scale * want[i * bRows + j]).Within(Math.Abs(scale) * 1e-5 * (2 * dims + 1)), $"({i},{j})");
            }
            for (int j = bRows; j < ldd; j++) Assert.That(got[i * ldd + j], Is.EqualTo(42f), "the padding is left alone");
        }
    }
}
