using System.Buffers;
using System.Numerics.Tensors;

namespace Mnist.Core.Numerics;

/// <summary>Small shared kernels over row-major matrices; each has a plain twin in <see cref="ReferenceKernels"/>.</summary>
public static class Kernels
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
            result[r] = TensorPrimitives.IndexOfMax(matrix.Slice(r * columns, columns));
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
            for (int i = 0; i < aRows; i++) aNorms[i] = TensorPrimitives.SumOfSquares(a.Slice(i * dims, dims));
            for (int j = 0; j < bRows; j++) bNorms[j] = TensorPrimitives.SumOfSquares(b.Slice(j * dims, dims));
            Gemm.Multiply(Transpose.No, Transpose.Yes, aRows, bRows, dims, -2f, a, dims, b, dims, 0f, distances, bRows, threads);
            ReadOnlySpan<float> bn = bNorms.AsSpan(0, bRows);
            for (int i = 0; i < aRows; i++)
            {
                Span<float> row = distances.Slice(i * bRows, bRows);
                TensorPrimitives.Add(row, bn, row);
                TensorPrimitives.Add(row, aNorms[i], row);
                TensorPrimitives.Max(row, 0f, row);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(aNorms);
            ArrayPool<float>.Shared.Return(bNorms);
        }
    }

    /// <summary>Output height or width of a stride-1 convolution: size + 2·pad − kernel + 1.</summary>
    public static int ConvOutputSize(int size, int kernel, int pad) => size + 2 * pad - kernel + 1;

    /// <summary>
    /// im2col for a stride-1 2-D convolution of one image in CHW layout (the per-image part of NCHW:
    /// image[(c·height + y)·width + x]). Writes one row per output pixel, row-major in (oy, ox) order, each row
    /// holding the receptive field in (c, ky, kx) order with zeros where it overlaps the padding:
    /// columns[(oy·outW + ox)·K + (c·kernelH + ky)·kernelW + kx] = image[c, oy + ky − padH, ox + kx − padW],
    /// K = channels·kernelH·kernelW. So the columns matrix is (outH·outW) × K, and multiplying it by a K × filters
    /// weight matrix gives the output in pixel-major (HWC) order; a batch stacks images' rows.
    /// </summary>
    public static void Im2Col(
        ReadOnlySpan<float> image, int channels, int height, int width,
        int kernelH, int kernelW, int padH, int padW, Span<float> columns)
    {
        int outH = ConvOutputSize(height, kernelH, padH), outW = ConvOutputSize(width, kernelW, padW);
        CheckConv(image.Length, columns.Length, channels, height, width, kernelH, kernelW, outH, outW);
        int k = channels * kernelH * kernelW;
        for (int oy = 0; oy < outH; oy++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int ky = 0; ky < kernelH; ky++)
                {
                    int y = oy + ky - padH;
                    int colOffset = (c * kernelH + ky) * kernelW;
                    bool rowInside = (uint)y < (uint)height;
                    ReadOnlySpan<float> src = rowInside ? image.Slice((c * height + y) * width, width) : default;
                    for (int ox = 0; ox < outW; ox++)
                    {
                        Span<float> dst = columns.Slice((oy * outW + ox) * k + colOffset, kernelW);
                        if (!rowInside)
                        {
                            dst.Clear();
                            continue;
                        }
                        // The part of the kernel row that lands inside the image is one contiguous copy.
                        int x0 = ox - padW;
                        int lo = Math.Max(0, -x0), hi = Math.Min(kernelW, width - x0);
                        if (hi <= lo)
                        {
                            dst.Clear();
                            continue;
                        }
                        dst[..lo].Clear();
                        src.Slice(x0 + lo, hi - lo).CopyTo(dst[lo..hi]);
                        dst[hi..].Clear();
                    }
                }
            }
        }
    }

    /// <summary>
    /// col2im, the adjoint of <see cref="Im2Col"/>: overwrites <paramref name="image"/> (CHW) with the sum, over every
    /// output pixel whose receptive field covers an image element, of that field's entry in
    /// <paramref name="columns"/> (entries on the padding are dropped). Used to turn column gradients into an input gradient.
    /// </summary>
    public static void Col2Im(
        ReadOnlySpan<float> columns, int channels, int height, int width,
        int kernelH, int kernelW, int padH, int padW, Span<float> image)
    {
        int outH = ConvOutputSize(height, kernelH, padH), outW = ConvOutputSize(width, kernelW, padW);
        CheckConv(image.Length, columns.Length, channels, height, width, kernelH, kernelW, outH, outW);
        int k = channels * kernelH * kernelW;
        image[..(channels * height * width)].Clear();
        for (int oy = 0; oy < outH; oy++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int ky = 0; ky < kernelH; ky++)
                {
                    int y = oy + ky - padH;
                    if ((uint)y >= (uint)height) continue;
                    int colOffset = (c * kernelH + ky) * kernelW;
                    Span<float> dst = image.Slice((c * height + y) * width, width);
                    for (int ox = 0; ox < outW; ox++)
                    {
                        int x0 = ox - padW;
                        int lo = Math.Max(0, -x0), hi = Math.Min(kernelW, width - x0);
                        if (hi <= lo) continue;
                        ReadOnlySpan<float> src = columns.Slice((oy * outW + ox) * k + colOffset + lo, hi - lo);
                        Span<float> d = dst.Slice(x0 + lo, hi - lo);
                        TensorPrimitives.Add(d, src, d);
                    }
                }
            }
        }
    }

    private static void CheckConv(int imageLength, int columnsLength, int channels, int height, int width, int kernelH, int kernelW, int outH, int outW)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelH);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelW);
        if (outH <= 0 || outW <= 0) throw new ArgumentException("The kernel does not fit the padded image.");
        if (imageLength < (long)channels * height * width) throw new ArgumentException("The image span is smaller than channels × height × width.");
        if (columnsLength < (long)outH * outW * channels * kernelH * kernelW)
            throw new ArgumentException("The columns span is smaller than (outH·outW) × (channels·kernelH·kernelW).");
    }
}

/// <summary>Obviously-correct scalar twins of <see cref="Kernels"/>, for tests.</summary>
public static class ReferenceKernels
{
    public static int[] ArgMaxRows(ReadOnlySpan<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        var result = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int c = 1; c < columns; c++)
                if (matrix[r * columns + c] > matrix[r * columns + best]) best = c;
            result[r] = best;
        }
        return result;
    }

    public static void SoftmaxRows(Span<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < columns; c++) max = Math.Max(max, matrix[r * columns + c]);
            double sum = 0;
            for (int c = 0; c < columns; c++) sum += Math.Exp(matrix[r * columns + c] - max);
            for (int c = 0; c < columns; c++) matrix[r * columns + c] = (float)(Math.Exp(matrix[r * columns + c] - max) / sum);
        }
    }

    public static void LogSoftmaxRows(Span<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < columns; c++) max = Math.Max(max, matrix[r * columns + c]);
            double sum = 0;
            for (int c = 0; c < columns; c++) sum += Math.Exp(matrix[r * columns + c] - max);
            double logSum = max + Math.Log(sum);
            for (int c = 0; c < columns; c++) matrix[r * columns + c] = (float)(matrix[r * columns + c] - logSum);
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

    public static void Im2Col(
        ReadOnlySpan<float> image, int channels, int height, int width,
        int kernelH, int kernelW, int padH, int padW, Span<float> columns)
    {
        int outH = height + 2 * padH - kernelH + 1, outW = width + 2 * padW - kernelW + 1;
        int k = channels * kernelH * kernelW;
        for (int oy = 0; oy < outH; oy++)
            for (int ox = 0; ox < outW; ox++)
                for (int c = 0; c < channels; c++)
                    for (int ky = 0; ky < kernelH; ky++)
                        for (int kx = 0; kx < kernelW; kx++)
                        {
                            int y = oy + ky - padH, x = ox + kx - padW;
                            bool inside = y >= 0 && y < height && x >= 0 && x < width;
                            columns[(oy * outW + ox) * k + (c * kernelH + ky) * kernelW + kx] =
                                inside ? image[(c * height + y) * width + x] : 0f;
                        }
    }

    public static void Col2Im(
        ReadOnlySpan<float> columns, int channels, int height, int width,
        int kernelH, int kernelW, int padH, int padW, Span<float> image)
    {
        int outH = height + 2 * padH - kernelH + 1, outW = width + 2 * padW - kernelW + 1;
        int k = channels * kernelH * kernelW;
        image[..(channels * height * width)].Clear();
        for (int oy = 0; oy < outH; oy++)
            for (int ox = 0; ox < outW; ox++)
                for (int c = 0; c < channels; c++)
                    for (int ky = 0; ky < kernelH; ky++)
                        for (int kx = 0; kx < kernelW; kx++)
                        {
                            int y = oy + ky - padH, x = ox + kx - padW;
                            if (y >= 0 && y < height && x >= 0 && x < width)
                                image[(c * height + y) * width + x] += columns[(oy * outW + ox) * k + (c * kernelH + ky) * kernelW + kx];
                        }
    }
}
