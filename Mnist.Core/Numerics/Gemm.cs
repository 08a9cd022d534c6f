using System.Numerics.Tensors;

namespace Mnist.Core.Numerics;

/// <summary>Whether a matrix operand is used as stored or transposed.</summary>
public enum Transpose
{
    No,
    Yes,
}

/// <summary>
/// Single-precision general matrix product, row-major: C = α·op(A)·op(B) + β·C, where op(A) is m×k,
/// op(B) is k×n and C is m×n, with leading dimensions (row strides) lda, ldb, ldc.
/// </summary>
public static class Gemm
{
    /// <summary>C = α·op(A)·op(B) + β·C. <paramref name="threads"/> ≤ 0 means <see cref="ComputeSettings.Threads"/>.</summary>
    public static void Multiply(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, int threads = 0)
    {
        // Interim kernel until the blocked SIMD kernel lands: transposed operands are copied to
        // row-major form, then each row of C accumulates rows of B scaled by A's entries.
        float[] aRows = new float[m * k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                aRows[i * k + p] = transA == Transpose.No ? a[i * lda + p] : a[p * lda + i];
        float[] bRows = new float[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
                bRows[p * n + j] = transB == Transpose.No ? b[p * ldb + j] : b[j * ldb + p];
        float[] result = new float[m * n];
        Parallel.For(0, m, ComputeSettings.ParallelOptions(threads), i =>
        {
            Span<float> row = result.AsSpan(i * n, n);
            for (int p = 0; p < k; p++)
            {
                float av = aRows[i * k + p];
                if (av != 0f) TensorPrimitives.MultiplyAdd(bRows.AsSpan(p * n, n), av, row, row);
            }
        });
        for (int i = 0; i < m; i++)
        {
            Span<float> cRow = c.Slice(i * ldc, n);
            ReadOnlySpan<float> rRow = result.AsSpan(i * n, n);
            for (int j = 0; j < n; j++)
                cRow[j] = beta == 0f ? alpha * rRow[j] : alpha * rRow[j] + beta * cRow[j];
        }
    }

    /// <summary>C = A·B for contiguous row-major A (m×k), B (k×n), C (m×n).</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int threads = 0) =>
        Multiply(Transpose.No, Transpose.No, m, n, k, 1f, a, k, b, n, 0f, c, n, threads);
}

/// <summary>The slow, obviously-correct twin of <see cref="Gemm"/> that the tests compare against.</summary>
public static class ReferenceGemm
{
    public static void Multiply(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA == Transpose.No ? a[i * lda + p] : a[p * lda + i];
                    float bv = transB == Transpose.No ? b[p * ldb + j] : b[j * ldb + p];
                    sum += (double)av * bv;
                }
                ref float cij = ref c[i * ldc + j];
                cij = beta == 0f ? alpha * (float)sum : alpha * (float)sum + beta * cij;
            }
        }
    }
}
