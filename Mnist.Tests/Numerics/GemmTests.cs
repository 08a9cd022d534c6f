using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

[TestFixture]
internal class GemmTests
{
    // Shapes chosen to hit every edge: 1-wide, odd sizes around the 6-row / 16-lane / 64-column tiles, more than
    // one KC (256) slice and NC (512) block, and the narrow paths (n ≤ 16 dot products; transposed A with small n).
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 7, 31), (7, 1, 33), (7, 33, 31), (31, 257, 7), (33, 7, 257), (257, 31, 33),
        (6, 64, 64), (13, 65, 17), (12, 130, 300), (40, 600, 300), (100, 10, 784), (1000, 10, 64),
        (160, 10, 1000), (200, 32, 100), (31, 16, 99), (9, 15, 1000), (257, 1, 70), (3, 1000, 5),
        (300, 20, 77), (64, 13, 50), (33, 24, 40),
    ];

    private static IEnumerable<TestCaseData> ShapeCases()
    {
        foreach (var (m, n, k) in Shapes)
            foreach (var ta in new[] { Transpose.No, Transpose.Yes })
                foreach (var tb in new[] { Transpose.No, Transpose.Yes })
                    yield return new TestCaseData(m, n, k, ta, tb).SetArgDisplayNames($"{m}x{n}x{k}", ta.ToString(), tb.ToString());
    }

    private static IEnumerable<GemmIsa> SupportedIsas()
    {
        yield return GemmIsa.Scalar;
        if (Gemm.DefaultIsa >= GemmIsa.Avx2) yield return GemmIsa.Avx2;
        if (Gemm.DefaultIsa >= GemmIsa.Avx512) yield return GemmIsa.Avx512;
    }

    /// <summary>Runs the fast kernel and the double-accumulating reference on the same inputs and compares.</summary>
    private static void CheckAgainstReference(
        GemmIsa isa, int m, int n, int k, Transpose ta, Transpose tb, float alpha, float beta,
        int extraLd, int threads, int seed = 1)
    {
        var rng = new Random(seed);
        int aRows = ta == Transpose.No ? m : k, aCols = ta == Transpose.No ? k : m;
        int bRows = tb == Transpose.No ? k : n, bCols = tb == Transpose.No ? n : k;
        int lda = aCols + extraLd, ldb = bCols + extraLd, ldc = n + extraLd;
        float[] a = TestMatrices.Random(rng, aRows, aCols, lda);
        float[] b = TestMatrices.Random(rng, bRows, bCols, ldb);
        // With β = 0 the old C must be ignored entirely, so fill it with NaN.
        float[] c0 = beta == 0f
            ? Enumerable.Repeat(float.NaN, m == 0 ? 0 : (m - 1) * ldc + n).ToArray()
            : TestMatrices.Random(rng, m, n, ldc);

        float[] got = (float[])c0.Clone();
        Gemm.Multiply(isa, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc, threads);

        float[] want = (float[])c0.Clone();
        ReferenceGemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
        float[] bound = beta == 0f ? new float[c0.Length] : TestMatrices.Abs(c0);
        ReferenceGemm.Multiply(ta, tb, m, n, k, MathF.Abs(alpha), TestMatrices.Abs(a), lda, TestMatrices.Abs(b), ldb, MathF.Abs(beta), bound, ldc);

        double tol = 2e-6 * Math.Sqrt(k + 1) + 1e-6;
        var (worst, row, col) = TestMatrices.WorstError(got, want, bound, m, n, ldc, tol);
        Assert.That(worst, Is.LessThanOrEqualTo(0),
            $"{isa} {m}x{n}x{k} {ta}/{tb} α={alpha} β={beta}: element ({row},{col}) got {(row < 0 ? 0 : got[row * ldc + col])}, want {(row < 0 ? 0 : want[row * ldc + col])}");
        // Padding between rows of C must be untouched.
        for (int i = 0; i + 1 < m; i++)
            for (int j = n; j < ldc; j++)
                Assert.That(got[i * ldc + j], Is.EqualTo(c0[i * ldc + j]).Or.NaN, "padding of C was written");
    }

    [TestCaseSource(nameof(ShapeCases))]
    public void MatchesReference_AllTransposes(int m, int n, int k, Transpose ta, Transpose tb)
    {
        foreach (var isa in SupportedIsas())
            CheckAgainstReference(isa, m, n, k, ta, tb, 1f, 0f, extraLd: 0, threads: 1);
    }

    [TestCaseSource(nameof(ShapeCases))]
    public void MatchesReference_PaddedLeadingDimensions_TwoThreads(int m, int n, int k, Transpose ta, Transpose tb) =>
        CheckAgainstReference(Gemm.DefaultIsa, m, n, k, ta, tb, -0.75f, 0.5f, extraLd: 3, threads: 2);

    [TestCase(1f, 0f)]
    [TestCase(2.5f, 0f)]
    [TestCase(1f, 1f)]
    [TestCase(-0.5f, 0.75f)]
    [TestCase(0f, 0.5f)]
    [TestCase(0f, 0f)]
    public void AlphaBetaVariants(float alpha, float beta)
    {
        foreach (var (m, n, k) in new[] { (37, 70, 300), (120, 10, 200), (200, 12, 50) })
            foreach (var ta in new[] { Transpose.No, Transpose.Yes })
                foreach (var tb in new[] { Transpose.No, Transpose.Yes })
                    CheckAgainstReference(Gemm.DefaultIsa, m, n, k, ta, tb, alpha, beta, extraLd: 5, threads: 2);
    }

    [Test]
    public void LargeEnoughToBlockAndSplit()
    {
        // Several KC slices and NC blocks, above the threading threshold, on both split directions.
        CheckAgainstReference(Gemm.DefaultIsa, 40, 1100, 600, Transpose.No, Transpose.No, 1f, 0f, 7, threads: 2);
        CheckAgainstReference(Gemm.DefaultIsa, 300, 70, 520, Transpose.Yes, Transpose.Yes, 1f, 0.25f, 1, threads: 2);
        CheckAgainstReference(Gemm.DefaultIsa, 64, 10, 9000, Transpose.No, Transpose.No, 1f, 0f, 0, threads: 2);
        CheckAgainstReference(Gemm.DefaultIsa, 200, 10, 5000, Transpose.Yes, Transpose.No, 1f, 0f, 0, threads: 2);
        // Swapped path with several k chunks: transposed B, two tall strips (n > 12), ragged last panel.
        CheckAgainstReference(Gemm.DefaultIsa, 64, 12, 4500, Transpose.Yes, Transpose.Yes, 0.5f, 2f, 3, threads: 2);
        CheckAgainstReference(Gemm.DefaultIsa, 40, 20, 4200, Transpose.Yes, Transpose.No, 1f, 0f, 1, threads: 3);
    }

    [Test]
    public void HugeOutput_UsesDeepSlicesAndStaysCorrectAndDeterministic()
    {
        // C ≥ 8M elements switches to the deep-slice, narrow-block plan; k small keeps the reference cheap.
        const int m = 2900, n = 2900, k = 7;
        CheckAgainstReference(Gemm.DefaultIsa, m, n, k, Transpose.No, Transpose.Yes, 1f, 0f, 0, threads: 2);
        var rng = new Random(5);
        float[] a = TestMatrices.Random(rng, m, k, k), b = TestMatrices.Random(rng, n, k, k);
        float[] one = new float[m * n], two = new float[m * n];
        Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, one, n, threads: 1);
        Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, two, n, threads: 2);
        Assert.That(two, Is.EqualTo(one).AsCollection);
    }

    [Test]
    public void KZero_ScalesC()
    {
        float[] c = [1, 2, 3, 4, 5, 6];
        Gemm.Multiply(Transpose.No, Transpose.No, 2, 3, 0, 1f, [], 1, [], 3, 0.5f, c, 3);
        Assert.That(c, Is.EqualTo(new float[] { 0.5f, 1, 1.5f, 2, 2.5f, 3 }));
        float[] nan = [float.NaN, float.NaN];
        Gemm.Multiply(Transpose.No, Transpose.No, 1, 2, 0, 1f, [], 1, [], 2, 0f, nan, 2);
        Assert.That(nan, Is.EqualTo(new float[] { 0, 0 }));
    }

    [Test]
    public void ConvenienceOverload_IsPlainProduct()
    {
        float[] a = [1, 2, 3, 4, 5, 6];          // 2×3
        float[] b = [7, 8, 9, 10, 11, 12];        // 3×2
        float[] c = [float.NaN, 0, 0, 0];
        Gemm.Multiply(2, 2, 3, a, b, c);
        Assert.That(c, Is.EqualTo(new float[] { 58, 64, 139, 154 }));
    }

    [Test]
    public void RejectsTooSmallOperands()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => Gemm.Multiply(Transpose.No, Transpose.No, 2, 2, 2, 1f, new float[3], 2, new float[4], 2, 0f, new float[4], 2),
                Throws.ArgumentException);
            Assert.That(() => Gemm.Multiply(Transpose.No, Transpose.No, 2, 2, 2, 1f, new float[4], 1, new float[4], 2, 0f, new float[4], 2),
                Throws.ArgumentException);
            Assert.That(() => Gemm.Multiply(Transpose.No, Transpose.Yes, 2, 3, 2, 1f, new float[4], 2, new float[5], 2, 0f, new float[6], 3),
                Throws.ArgumentException);
        });
    }

    [TestCase(333, 517, 300, Transpose.No, Transpose.No)]
    [TestCase(130, 700, 260, Transpose.Yes, Transpose.Yes)]
    [TestCase(4000, 10, 300, Transpose.No, Transpose.No)]
    [TestCase(300, 10, 4000, Transpose.Yes, Transpose.No)]
    [TestCase(500, 30, 200, Transpose.No, Transpose.Yes)]
    public void Deterministic_RepeatAndAcrossThreadCounts(int m, int n, int k, Transpose ta, Transpose tb)
    {
        var rng = new Random(7);
        float[] a = TestMatrices.Random(rng, ta == Transpose.No ? m : k, ta == Transpose.No ? k : m, ta == Transpose.No ? k : m);
        float[] b = TestMatrices.Random(rng, tb == Transpose.No ? k : n, tb == Transpose.No ? n : k, tb == Transpose.No ? n : k);
        int lda = ta == Transpose.No ? k : m, ldb = tb == Transpose.No ? n : k;
        float[] Run(int threads)
        {
            float[] c = TestMatrices.Random(new Random(3), m, n, n);
            Gemm.Multiply(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, 0.5f, c, n, threads);
            return c;
        }
        float[] one = Run(1), oneAgain = Run(1), two = Run(2), twoAgain = Run(2), three = Run(3);
        Assert.Multiple(() =>
        {
            Assert.That(oneAgain, Is.EqualTo(one).AsCollection, "repeat on 1 thread");
            Assert.That(twoAgain, Is.EqualTo(two).AsCollection, "repeat on 2 threads");
            Assert.That(two, Is.EqualTo(one).AsCollection, "1 vs 2 threads");
            Assert.That(three, Is.EqualTo(one).AsCollection, "1 vs 3 threads");
        });
    }
}
