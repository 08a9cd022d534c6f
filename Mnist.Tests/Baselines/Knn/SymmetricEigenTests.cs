using Mnist.Baselines.Pca;

namespace Mnist.Tests.Baselines.Knn;

[TestFixture]
public sealed class SymmetricEigenTests
{
    /// <summary>Q·diag(values)·Qᵀ for a seeded random orthogonal Q (Gram–Schmidt of a Gaussian matrix); Q's columns are returned as rows.</summary>
    private static (double[] Matrix, double[] Vectors) WithSpectrum(double[] values, int seed)
    {
        int n = values.Length;
        var random = new Random(seed);
        var q = new double[n * n];
        for (int i = 0; i < q.Length; i++) q[i] = random.NextDouble() * 2 - 1;
        for (int r = 0; r < n; r++)
        {
            for (int p = 0; p < r; p++)
            {
                double dot = 0;
                for (int k = 0; k < n; k++) dot += q[p * n + k] * q[r * n + k];
                for (int k = 0; k < n; k++) q[r * n + k] -= dot * q[p * n + k];
            }
            double norm = Math.Sqrt(Enumerable.Range(0, n).Sum(k => q[r * n + k] * q[r * n + k]));
            for (int k = 0; k < n; k++) q[r * n + k] /= norm;
        }
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int r = 0; r < n; r++) sum += q[r * n + i] * values[r] * q[r * n + j];
                a[i * n + j] = sum;
            }
        return (a, q);
    }

    private static double AbsDot(double[] a, int rowA, double[] b, int rowB, int n)
    {
        double dot = 0;
        for (int k = 0; k < n; k++) dot += a[rowA * n + k] * b[rowB * n + k];
        return Math.Abs(dot);
    }

    [Test]
    public void JacobiRecoversAKnownSpectrumAndEigenvectors()
    {
        double[] spectrum = [9, 5, 3.5, 2, 1, 0.5, -0.25, -4];
        int n = spectrum.Length;
        var (matrix, q) = WithSpectrum(spectrum, seed: 3);

        var (values, vectors) = SymmetricEigen.Jacobi(matrix, n);

        Assert.That(values, Is.EqualTo(spectrum.OrderByDescending(v => v)).Within(1e-12).AsCollection);
        int[] rankOf = spectrum.Select(v => Array.IndexOf(values, values.MinBy(x => Math.Abs(x - v)))).ToArray();
        for (int r = 0; r < n; r++)
            Assert.That(AbsDot(vectors, rankOf[r], q, r, n), Is.EqualTo(1).Within(1e-10), $"eigenvector of {spectrum[r]}");
    }

    [Test]
    public void JacobiSatisfiesTheEigenEquationOnARandomSymmetricMatrix()
    {
        const int n = 30;
        var random = new Random(11);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) a[i * n + j] = a[j * n + i] = random.NextDouble() * 2 - 1;

        var (values, vectors) = SymmetricEigen.Jacobi(a, n);

        Assert.That(values, Is.Ordered.Descending);
        Assert.That(values.Sum(), Is.EqualTo(Enumerable.Range(0, n).Sum(i => a[i * n + i])).Within(1e-10), "trace");
        for (int r = 0; r < n; r++)
        {
            for (int s = 0; s <= r; s++)
                Assert.That(AbsDot(vectors, r, vectors, s, n), Is.EqualTo(r == s ? 1 : 0).Within(1e-12));
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int k = 0; k < n; k++) av += a[i * n + k] * vectors[r * n + k];
                Assert.That(av, Is.EqualTo(values[r] * vectors[r * n + i]).Within(1e-11));
            }
        }
    }

    [Test]
    public void SubspaceIterationMatchesJacobiOnTheLeadingPairsOfAPsdMatrix()
    {
        // A covariance-like spectrum: geometric decay, then a long tail of zeros (rank-deficient).
        const int n = 80;
        var spectrum = Enumerable.Range(0, n).Select(i => i < 60 ? 10 * Math.Pow(0.85, i) : 0).ToArray();
        var (matrix, _) = WithSpectrum(spectrum, seed: 5);
        var (referenceValues, referenceVectors) = SymmetricEigen.Jacobi(matrix, n);

        var (values, vectors) = SymmetricEigen.TopEigenpairs(matrix, n, count: 8, seed: 1, tolerance: 1e-10);

        Assert.That(values, Is.EqualTo(referenceValues[..8]).Within(1e-9).AsCollection);
        for (int r = 0; r < 8; r++)
        {
            Assert.That(AbsDot(vectors, r, referenceVectors, r, n), Is.EqualTo(1).Within(1e-8));
            // Same sign convention as Jacobi.
            Assert.That(vectors.AsSpan(r * n, n).ToArray(), Is.EqualTo(referenceVectors.AsSpan(r * n, n).ToArray()).Within(1e-6).AsCollection);
        }
        var (again, _) = SymmetricEigen.TopEigenpairs(matrix, n, count: 8, seed: 1, tolerance: 1e-10);
        Assert.That(again, Is.EqualTo(values).AsCollection, "deterministic for a seed");
    }

    [Test]
    public void PcaFindsTheCovarianceEigenvectorsAndCentres()
    {
        // 500 points in 6-D with known per-axis spread, rotated by a random orthogonal matrix and shifted.
        const int n = 500, d = 6;
        double[] spreads = [3, 2, 1, 0.5, 0.2, 0.1];
        var (_, rotation) = WithSpectrum(spreads, seed: 8);
        var random = new Random(4);
        var rows = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            var latent = spreads.Select(s => s * (random.NextDouble() * 2 - 1)).ToArray();
            for (int j = 0; j < d; j++)
                rows[i * d + j] = (float)(5 + Enumerable.Range(0, d).Sum(r => latent[r] * rotation[r * d + j]));
        }
        // Reference: the sample covariance in double and its Jacobi eigenpairs.
        var mean = Enumerable.Range(0, d).Select(j => Enumerable.Range(0, n).Average(i => (double)rows[i * d + j])).ToArray();
        var covariance = new double[d * d];
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
                covariance[a * d + b] = Enumerable.Range(0, n).Sum(i => (rows[i * d + a] - mean[a]) * (rows[i * d + b] - mean[b])) / (n - 1);
        var (referenceValues, referenceVectors) = SymmetricEigen.Jacobi(covariance, d);

        var pca = PcaProjection.Fit(rows, n, d, components: 3, seed: 42);
        var projected = new float[n * 3];
        pca.Project(rows, n, projected);

        Assert.That(pca.Mean, Is.EqualTo(mean.Select(m => (float)m)).Within(1e-5).AsCollection);
        Assert.That(pca.Variances, Is.EqualTo(referenceValues[..3]).Within(1e-4).AsCollection);
        for (int c = 0; c < 3; c++)
        {
            double dot = 0;
            for (int j = 0; j < d; j++) dot += pca.Basis[j * 3 + c] * referenceVectors[c * d + j];
            Assert.That(Math.Abs(dot), Is.EqualTo(1).Within(1e-5));
            // Projections are centred and their variance is the eigenvalue.
            var column = Enumerable.Range(0, n).Select(i => (double)projected[i * 3 + c]).ToArray();
            Assert.That(column.Average(), Is.EqualTo(0).Within(1e-4));
            Assert.That(column.Sum(v => v * v) / (n - 1), Is.EqualTo(referenceValues[c]).Within(1e-3 * referenceValues[c]));
        }
    }
}
