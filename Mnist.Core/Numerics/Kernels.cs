using System.Buffers;
using System.Numerics.Tensors;

namespace Mnist.Core.Numerics;

/// <summary>Small shared kernels over row-major matrices; each has a plain twin in <see cref="ReferenceKernels"/>.</summary>
internal static class Kernels
{
    /// <summary>Index of the largest value in each row of a rows × <paramref name="columns"/> matrix (first on ties).</summary>
    public static int[] ArgMaxRows(ReadOnlySpan<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        var result = new int[rows];
        ArgMaxRows(matrix, columns, result);
        return result;
    }

    public static void ArgMaxRows(ReadOnlySpan<float> matrix, int columns, Span<int> result)
    {
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
            result[r] = ArgMax(matrix.Slice(r * columns, columns));
    }

    /// <summary>
    /// Index of the largest value of one row, the first on ties: the one argmax behind every prediction, accuracy and
    /// confusion matrix. A NaN wins (the first one, so a diverged model shows), and +0 counts above −0.
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> row) => TensorPrimitives.IndexOfMax(row);

    /// <summary>The smallest probability log-loss takes: a confident miss costs −log 1e-15 ≈ 34.5 rather than +∞.</summary>
    public const double LogLossFloor = 1e-15;

    /// <summary>−log p for the probability p given to the true class, p clamped to [<see cref="LogLossFloor"/>, 1].</summary>
    public static double LogLoss(float probability) => -Math.Log(Math.Clamp((double)probability, LogLossFloor, 1.0));

    /// <summary>
    /// −log softmax(scores)[label] in double, from raw scores: log Σ exp(sᶜ − max) − (s_label − max), so it stays
    /// finite where the probability itself would underflow.
    /// </summary>
    public static double LogLossFromScores(ReadOnlySpan<float> scores, int label)
    {
        double max = Max(scores); // the differences taken in double, exact for float scores
        double sum = 0;
        for (int c = 0; c < scores.Length; c++) sum += Math.Exp(scores[c] - max);
        return Math.Log(sum) - (scores[label] - max);
    }

    /// <summary>Rows per block of the row-wise kernels: one vectorised Exp call covers ~4096 elements.</summary>
    private static int BlockRows(int columns) => Math.Max(1, 4096 / columns);

    /// <summary>In-place softmax of each row (numerically stable: the row maximum is subtracted first).</summary>
    /// <remarks>
    /// Rows are handled in blocks: max-subtraction per row, then one Exp over the whole block, then per-row
    /// normalisation. For short rows (60000×10 logits) this is about twice as fast as three library calls per row.
    /// </remarks>
    public static void SoftmaxRows(Span<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        int blockRows = BlockRows(columns);
        for (int r0 = 0; r0 < rows; r0 += blockRows)
        {
            Span<float> block = matrix.Slice(r0 * columns, Math.Min(blockRows, rows - r0) * columns);
            for (int x = 0; x < block.Length; x += columns)
            {
                Span<float> row = block.Slice(x, columns);
                SubtractInPlace(row, Max(row));
            }
            TensorPrimitives.Exp(block, block);
            for (int x = 0; x < block.Length; x += columns)
            {
                Span<float> row = block.Slice(x, columns);
                DivideInPlace(row, Sum(row));
            }
        }
    }

    /// <summary>
    /// In-place log-softmax of each row: x − max − log Σ exp(x − max). Computed directly rather than as
    /// log(softmax) so very negative entries stay finite instead of underflowing to −∞.
    /// </summary>
    public static void LogSoftmaxRows(Span<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        int blockRows = BlockRows(columns);
        // exp(x − max) goes to a scratch block; the row itself only needs the final subtraction.
        float[] scratch = ArrayPool<float>.Shared.Rent(blockRows * columns);
        try
        {
            for (int r0 = 0; r0 < rows; r0 += blockRows)
            {
                Span<float> block = matrix.Slice(r0 * columns, Math.Min(blockRows, rows - r0) * columns);
                Span<float> e = scratch.AsSpan(0, block.Length);
                for (int x = 0; x < block.Length; x += columns)
                {
                    Span<float> row = block.Slice(x, columns);
                    float max = Max(row);
                    SubtractInPlace(row, max);
                }
                TensorPrimitives.Exp(block, e);
                for (int x = 0; x < block.Length; x += columns)
                    SubtractInPlace(block.Slice(x, columns), MathF.Log(Sum(e.Slice(x, columns))));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    // Short rows (a handful of classes) are cheaper in plain loops than through a library call each.
    private const int ShortRow = 32;

    private static float Max(ReadOnlySpan<float> row)
    {
        if (row.Length >= ShortRow) return TensorPrimitives.Max(row);
        float max = row[0];
        for (int i = 1; i < row.Length; i++) max = MathF.Max(max, row[i]);
        return max;
    }

    private static float Sum(ReadOnlySpan<float> row)
    {
        if (row.Length >= ShortRow) return TensorPrimitives.Sum(row);
        float sum = 0f;
        for (int i = 0; i < row.Length; i++) sum += row[i];
        return sum;
    }

    private static void SubtractInPlace(Span<float> row, float value)
    {
        if (row.Length >= ShortRow) TensorPrimitives.Subtract(row, value, row);
        else for (int i = 0; i < row.Length; i++) row[i] -= value;
    }

    private static void DivideInPlace(Span<float> row, float value)
    {
        if (row.Length >= ShortRow) TensorPrimitives.Divide(row, value, row);
        else for (int i = 0; i < row.Length; i++) row[i] /= value;
    }

    /// <summary>
    /// Scales non-negative per-class scores in place to sum to one: negative and NaN scores count as 0, and a row with
    /// nothing positive becomes uniform. For scores that are already probability-like (ML.NET's one-vs-all
    /// calibrated outputs), where a softmax would flatten them.
    /// </summary>
    public static void NormaliseToProbabilities(Span<float> row)
    {
        double sum = 0;
        for (int i = 0; i < row.Length; i++)
        {
            if (!(row[i] > 0)) row[i] = 0;
            sum += row[i];
        }
        if (sum <= 0)
        {
            row.Fill(1f / row.Length);
            return;
        }
        float scale = (float)(1 / sum);
        for (int i = 0; i < row.Length; i++) row[i] *= scale;
    }

    /// <summary>Adds <paramref name="bias"/> to each row of the matrix.</summary>
    public static void AddBiasRows(Span<float> matrix, ReadOnlySpan<float> bias)
    {
        int columns = bias.Length;
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = matrix.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary>Squared Euclidean norm of each <paramref name="dims"/>-wide row of <paramref name="rows"/> (count = norms.Length).</summary>
    public static void SquaredNorms(ReadOnlySpan<float> rows, int dims, Span<float> norms)
    {
        for (int i = 0; i < norms.Length; i++) norms[i] = TensorPrimitives.SumOfSquares(rows.Slice(i * dims, dims));
    }

    /// <summary>Squared norms of <paramref name="count"/> contiguous rows, as a new array.</summary>
    public static float[] SquaredNorms(ReadOnlySpan<float> rows, int count, int dims)
    {
        var norms = new float[count];
        SquaredNorms(rows, dims, norms);
        return norms;
    }

    /// <summary>
    /// Squared Euclidean distances between the rows of <paramref name="a"/> (aRows × dims) and of <paramref name="b"/>
    /// (bRows × dims), both contiguous row-major: distances[i·bRows + j] = ‖aᵢ − bⱼ‖², computed as
    /// ‖aᵢ‖² − 2·aᵢ·bⱼ + ‖bⱼ‖² with one GEMM and clamped at 0 (the expansion can dip slightly below zero through
    /// rounding for near-identical rows; its absolute error is about 1e-7·(‖aᵢ‖² + ‖bⱼ‖²)).
    /// </summary>
    public static void SquaredDistances(
        ReadOnlySpan<float> a, int aRows, ReadOnlySpan<float> b, int bRows, int dims, Span<float> distances, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(aRows);
        ArgumentOutOfRangeException.ThrowIfNegative(bRows);
        ArgumentOutOfRangeException.ThrowIfNegative(dims);
        if (a.Length < (long)aRows * dims) throw new ArgumentException("a is smaller than aRows × dims.", nameof(a));
        if (b.Length < (long)bRows * dims) throw new ArgumentException("b is smaller than bRows × dims.", nameof(b));
        if (distances.Length < (long)aRows * bRows) throw new ArgumentException("distances is smaller than aRows × bRows.", nameof(distances));
        if (aRows == 0 || bRows == 0) return;

        float[] aNorms = ArrayPool<float>.Shared.Rent(aRows);
        float[] bNorms = ArrayPool<float>.Shared.Rent(bRows);
        try
        {
            SquaredNorms(a, dims, aNorms.AsSpan(0, aRows));
            SquaredNorms(b, dims, bNorms.AsSpan(0, bRows));
            ScaledSquaredDistances(a, aNorms, aRows, b, bNorms, bRows, dims, 1f, distances, bRows, threads);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(aNorms);
            ArrayPool<float>.Shared.Return(bNorms);
        }
    }

    /// <summary>
    /// distances[i·ldd + j] = scale·‖aᵢ − bⱼ‖² from precomputed squared norms (see <see cref="SquaredNorms(ReadOnlySpan{float}, int, Span{float})"/>):
    /// one GEMM with alpha −2·scale, then + scale·‖bⱼ‖² + scale·‖aᵢ‖², clamped at 0 on the side of the sign of scale.
    /// The one distance kernel behind k-NN (scale 1) and the RBF kernel (scale −γ, then exp).
    /// </summary>
    public static void ScaledSquaredDistances(
        ReadOnlySpan<float> a, ReadOnlySpan<float> aNorms, int aRows,
        ReadOnlySpan<float> b, ReadOnlySpan<float> bNorms, int bRows,
        int dims, float scale, Span<float> distances, int ldd, int threads = 0)
    {
        if (aRows == 0 || bRows == 0) return;
        Gemm.Multiply(Transpose.No, Transpose.Yes, aRows, bRows, dims, -2f * scale, a, dims, b, dims, 0f, distances, ldd, threads);
        float[]? rented = scale == 1f ? null : ArrayPool<float>.Shared.Rent(bRows);
        try
        {
            ReadOnlySpan<float> scaledB = bNorms[..bRows];
            if (rented is not null)
            {
                TensorPrimitives.Multiply(scaledB, scale, rented.AsSpan(0, bRows));
                scaledB = rented.AsSpan(0, bRows);
            }
            for (int i = 0; i < aRows; i++)
            {
                Span<float> row = distances.Slice(i * ldd, bRows);
                TensorPrimitives.Add(row, scaledB, row);
                TensorPrimitives.Add(row, scale * aNorms[i], row);
                if (scale >= 0f) TensorPrimitives.Max(row, 0f, row);
                else TensorPrimitives.Min(row, 0f, row);
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }
}

/// <summary>Obviously-correct scalar twins of <see cref="Kernels"/>, for tests.</summary>
internal static class ReferenceKernels
{
    public static int[] ArgMaxRows(ReadOnlySpan<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        var result = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int c = 1; c < columns && !float.IsNaN(matrix[r * columns + best]); c++)
            {
                float value = matrix[r * columns + c], top = matrix[r * columns + best];
                if (float.IsNaN(value) || value > top || (value == 0f && top == 0f && float.IsNegative(top) && !float.IsNegative(value))) best = c;
            }
            result[r] = best;
        }
        return result;
    }

    /// <summary>The row's maximum and Σ exp(x − max), both in double.</summary>
    private static (double Max, double Sum) MaxAndExpSum(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity;
        foreach (float x in row) max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in row) sum += Math.Exp(x - max);
        return (max, sum);
    }

    public static void SoftmaxRows(Span<float> matrix, int columns)
    {
        for (int r = 0; r < matrix.Length / columns; r++)
        {
            Span<float> row = matrix.Slice(r * columns, columns);
            var (max, sum) = MaxAndExpSum(row);
            for (int c = 0; c < columns; c++) row[c] = (float)(Math.Exp(row[c] - max) / sum);
        }
    }

    public static void LogSoftmaxRows(Span<float> matrix, int columns)
    {
        for (int r = 0; r < matrix.Length / columns; r++)
        {
            Span<float> row = matrix.Slice(r * columns, columns);
            var (max, sum) = MaxAndExpSum(row);
            double logSum = max + Math.Log(sum);
            for (int c = 0; c < columns; c++) row[c] = (float)(row[c] - logSum);
        }
    }

    public static void AddBiasRows(Span<float> matrix, ReadOnlySpan<float> bias)
    {
        int columns = bias.Length;
        for (int x = 0; x < matrix.Length; x++) matrix[x] += bias[x % columns];
    }

    /// <summary>Direct Σ (aᵢ − bⱼ)², accumulated in double.</summary>
    public static void SquaredDistances(ReadOnlySpan<float> a, int aRows, ReadOnlySpan<float> b, int bRows, int dims, Span<float> distances)
    {
        for (int i = 0; i < aRows; i++)
            for (int j = 0; j < bRows; j++)
            {
                double sum = 0;
                for (int d = 0; d < dims; d++)
                {
                    double diff = (double)a[i * dims + d] - b[j * dims + d];
                    sum += diff * diff;
                }
                distances[i * bRows + j] = (float)sum;
            }
    }

    /// <summary>−log of the softmax of the scores at the label, through a double softmax.</summary>
    public static double LogLossFromScores(ReadOnlySpan<float> scores, int label)
    {
        var (max, sum) = MaxAndExpSum(scores);
        return -Math.Log(Math.Exp(scores[label] - max) / sum);
    }
}
