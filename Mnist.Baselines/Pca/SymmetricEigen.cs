using System.Numerics;
using System.Numerics.Tensors;

namespace Mnist.Baselines.Pca;

/// <summary>
/// Eigen-decompositions of real symmetric matrices in double precision (row-major n × n).
/// <see cref="Jacobi"/> gives every eigenpair (small matrices; also the reference in tests);
/// <see cref="TopEigenpairs"/> gives the leading ones of a positive semi-definite matrix by seeded subspace
/// iteration with Rayleigh–Ritz, which is what PCA of a 784 × 784 covariance needs.
/// </summary>
/// <remarks>
/// Eigenvalues come out in descending order; eigenvector i is row i of the returned vectors (unit length,
/// sign fixed so that its largest-magnitude entry is positive — the first such entry on ties), so results
/// are reproducible. Both methods are single-threaded and deterministic.
/// </remarks>
public static class SymmetricEigen
{
    /// <summary>All eigenpairs by cyclic Jacobi rotations. <paramref name="matrix"/> is read only (symmetry is assumed; the upper triangle is used).</summary>
    public static (double[] Values, double[] Vectors) Jacobi(ReadOnlySpan<double> matrix, int n, int maxSweeps = 100)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (matrix.Length < n * n) throw new ArgumentException($"A {n}×{n} matrix needs {n * n} values.", nameof(matrix));
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                a[i * n + j] = i <= j ? matrix[i * n + j] : matrix[j * n + i];
        var v = new double[n * n]; // columns are eigenvectors while iterating
        for (int i = 0; i < n; i++) v[i * n + i] = 1;

        double scale = 0;
        foreach (double x in a) scale = Math.Max(scale, Math.Abs(x));
        for (int sweep = 0; sweep < maxSweeps && scale > 0; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
            if (Math.Sqrt(off) <= 1e-15 * scale * n) break;

            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (Math.Abs(apq) <= 1e-300) continue;
                    double app = a[p * n + p], aqq = a[q * n + q];
                    // Negligible next to both diagonal entries: zero it (as in Numerical Recipes' jacobi).
                    if (sweep > 3 && Math.Abs(apq) < 1e-18 * Math.Abs(app) && Math.Abs(apq) < 1e-18 * Math.Abs(aqq))
                    {
                        a[p * n + q] = a[q * n + p] = 0;
                        continue;
                    }
                    double theta = (aqq - app) / (2 * apq);
                    double t = (theta >= 0 ? 1 : -1) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    // A ← Pᵀ A P with P = I except P_pp = P_qq = c, P_pq = s, P_qp = −s.
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    a[p * n + q] = a[q * n + p] = 0;
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }

        var diagonal = new double[n];
        for (int i = 0; i < n; i++) diagonal[i] = a[i * n + i];
        var order = DescendingOrder(diagonal);
        var values = new double[n];
        var vectors = new double[n * n];
        for (int r = 0; r < n; r++)
        {
            values[r] = diagonal[order[r]];
            for (int k = 0; k < n; k++) vectors[r * n + k] = v[k * n + order[r]];
            FixSign(vectors.AsSpan(r * n, n));
        }
        return (values, vectors);
    }

    /// <summary>
    /// The <paramref name="count"/> largest eigenpairs of a symmetric positive semi-definite matrix by subspace
    /// iteration: a seeded Gaussian block of count + oversampling vectors is repeatedly multiplied by the matrix
    /// and re-orthonormalised, with a Rayleigh–Ritz step (Jacobi on the small projected matrix) each iteration,
    /// until every wanted Ritz pair's residual ‖Ax − θx‖ is within <paramref name="tolerance"/> × the largest θ.
    /// </summary>
    public static (double[] Values, double[] Vectors) TopEigenpairs(
        ReadOnlySpan<double> matrix, int n, int count, int seed, double tolerance = 1e-7, int maxIterations = 500,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, n);
        if (matrix.Length < n * n) throw new ArgumentException($"A {n}×{n} matrix needs {n * n} values.", nameof(matrix));
        int block = Math.Min(n, count + Math.Max(10, count / 2));
        if (block == n)
        {
            var (allValues, allVectors) = Jacobi(matrix, n);
            return (allValues[..count], allVectors[..(count * n)]);
        }

        // Basis vectors are rows (block × n), so A·q is one row of dot products.
        var q = new double[block * n];
        var random = new Random(seed);
        for (int i = 0; i < q.Length; i++) q[i] = Gaussian(random);
        Orthonormalise(q, block, n);
        var z = new double[block * n];
        var h = new double[block * block];
        var ritz = new double[block * n];
        var az = new double[block * n];
        double[] values = new double[block];
        var a = matrix[..(n * n)].ToArray();

        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            MultiplyRows(a, n, q, block, z);                       // z = A q (rows)
            for (int i = 0; i < block; i++)                        // h = qᵀ A q
                for (int j = i; j < block; j++)
                    h[i * block + j] = h[j * block + i] = TensorPrimitives.Dot<double>(q.AsSpan(i * n, n), z.AsSpan(j * n, n));
            var (theta, u) = Jacobi(h, block);
            values = theta;
            // Ritz vectors x_r = Σ_i u_r[i] q_i and A x_r = Σ_i u_r[i] z_i.
            Combine(u, block, q, n, ritz);
            Combine(u, block, z, n, az);
            double worst = 0;
            for (int r = 0; r < count; r++)
            {
                double residual = 0;
                for (int k = 0; k < n; k++)
                {
                    double e = az[r * n + k] - theta[r] * ritz[r * n + k];
                    residual += e * e;
                }
                worst = Math.Max(worst, Math.Sqrt(residual));
            }
            if (worst <= tolerance * Math.Max(Math.Abs(theta[0]), double.Epsilon)) break;
            // Next basis: orth(A X).
            Array.Copy(az, q, az.Length);
            Orthonormalise(q, block, n);
        }

        var vectors = new double[count * n];
        for (int r = 0; r < count; r++)
        {
            Span<double> row = vectors.AsSpan(r * n, n);
            ritz.AsSpan(r * n, n).CopyTo(row);
            TensorPrimitives.Divide(row, Math.Sqrt(TensorPrimitives.Dot<double>(row, row)), row);
            FixSign(row);
        }
        return (values[..count], vectors);
    }

    private static void MultiplyRows(double[] a, int n, double[] q, int rows, double[] result)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> v = q.AsSpan(r * n, n);
            for (int i = 0; i < n; i++) result[r * n + i] = TensorPrimitives.Dot<double>(a.AsSpan(i * n, n), v);
        }
    }

    /// <summary>result row r = Σ_i u[r, i] · rows[i] (u's rows are the small eigenvectors).</summary>
    private static void Combine(double[] u, int block, double[] rows, int n, double[] result)
    {
        Array.Clear(result);
        for (int r = 0; r < block; r++)
        {
            Span<double> target = result.AsSpan(r * n, n);
            for (int i = 0; i < block; i++)
                TensorPrimitives.MultiplyAdd(rows.AsSpan(i * n, n), u[r * block + i], target, target);
        }
    }

    /// <summary>
    /// Modified Gram–Schmidt, twice (re-orthogonalisation), on the rows; a row that vanishes (dependent on the
    /// earlier ones) is replaced by the next unit vector e₀, e₁, … that is not.
    /// </summary>
    private static void Orthonormalise(double[] rows, int count, int n) => Orthonormalise(rows, count, n, 1e-9, 1e-300);

    /// <summary>
    /// <see cref="Orthonormalise(double[], int, int)"/> in any precision: a row counts as vanished when Gram–Schmidt leaves
    /// less than <paramref name="relativeFloor"/> of its length or less than <paramref name="absoluteFloor"/>.
    /// </summary>
    internal static void Orthonormalise<T>(T[] rows, int count, int n, T relativeFloor, T absoluteFloor)
        where T : IFloatingPointIeee754<T>
    {
        int nextUnit = 0;
        for (int r = 0; r < count; r++)
        {
            Span<T> v = rows.AsSpan(r * n, n);
            while (true)
            {
                T before = T.Sqrt(TensorPrimitives.Dot<T>(v, v));
                for (int pass = 0; pass < 2; pass++)
                    for (int p = 0; p < r; p++)
                    {
                        ReadOnlySpan<T> u = rows.AsSpan(p * n, n);
                        TensorPrimitives.MultiplyAdd(u, -TensorPrimitives.Dot(u, v), v, v);
                    }
                T norm = T.Sqrt(TensorPrimitives.Dot<T>(v, v));
                if ((norm > relativeFloor * before && norm > absoluteFloor) || nextUnit >= n)
                {
                    TensorPrimitives.Divide(v, norm, v);
                    break;
                }
                v.Clear();
                v[nextUnit++] = T.One;
            }
        }
    }

    private static int[] DescendingOrder(double[] values)
    {
        var order = new int[values.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        // Stable: equal eigenvalues keep their index order.
        Array.Sort(order, (x, y) => values[y].CompareTo(values[x]) is var c && c != 0 ? c : x.CompareTo(y));
        return order;
    }

    private static void FixSign(Span<double> vector)
    {
        int best = 0;
        for (int k = 1; k < vector.Length; k++)
            if (Math.Abs(vector[k]) > Math.Abs(vector[best])) best = k;
        if (vector.Length > 0 && vector[best] < 0) TensorPrimitives.Negate(vector, vector);
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    internal static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
