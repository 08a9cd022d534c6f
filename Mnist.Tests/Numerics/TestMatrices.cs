namespace Mnist.Tests.Numerics;

/// <summary>Random test matrices with padding (the columns past the width in each row) set to NaN, so a kernel that reads padding is caught.</summary>
internal static class TestMatrices
{
    public static float[] Random(Random rng, int rows, int columns, int ld, float padding = float.NaN)
    {
        var x = new float[rows == 0 ? 0 : (rows - 1) * ld + columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < ld && r * ld + c < x.Length; c++)
                x[r * ld + c] = c < columns ? (float)(rng.NextDouble() * 2 - 1) : padding;
        return x;
    }

    public static float[] Abs(float[] x) => x.Select(MathF.Abs).ToArray();

    /// <summary>
    /// Largest violation of |got − want| ≤ tol·bound over the m×n elements, where bound is the matching element of
    /// the reference product of absolute values (so cancellation does not make the test flaky). ≤ 0 means all pass.
    /// </summary>
    public static (double Worst, int Row, int Col) WorstError(float[] got, float[] want, float[] bound, int m, int n, int ld, double tol)
    {
        double worst = double.NegativeInfinity;
        int wr = -1, wc = -1;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int x = i * ld + j;
                double err = Math.Abs((double)got[x] - want[x]) - tol * (bound[x] + 1e-30);
                if (double.IsNaN(got[x]) || double.IsNaN(err)) return (double.PositiveInfinity, i, j);
                if (err > worst) (worst, wr, wc) = (err, i, j);
            }
        return (worst, wr, wc);
    }
}
