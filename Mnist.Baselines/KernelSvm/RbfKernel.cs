using System.Numerics.Tensors;
using Mnist.Core.Numerics;

namespace Mnist.Baselines.KernelSvm;

/// <summary>
/// The Gaussian (RBF) kernel k(a, b) = exp(−γ‖a − b‖²) between row sets: −γ‖a − b‖² from
/// <see cref="Kernels.ScaledSquaredDistances"/> (one GEMM, clamped at 0), then the exponential.
/// </summary>
internal static class RbfKernel
{
    /// <summary>
    /// kernel[i·ldk + j] = exp(−γ‖aᵢ − bⱼ‖²) for aRows rows of <paramref name="a"/> and bRows rows of <paramref name="b"/>
    /// (contiguous, dims wide, with squared norms from <see cref="Kernels.SquaredNorms(ReadOnlySpan{float}, int, int)"/>).
    /// </summary>
    public static void Block(
        ReadOnlySpan<float> a, ReadOnlySpan<float> aNorms, int aRows,
        ReadOnlySpan<float> b, ReadOnlySpan<float> bNorms, int bRows,
        int dims, float gamma, Span<float> kernel, int ldk, int threads = 1)
    {
        Kernels.ScaledSquaredDistances(a, aNorms, aRows, b, bNorms, bRows, dims, -gamma, kernel, ldk, threads);
        for (int i = 0; i < aRows; i++)
        {
            Span<float> row = kernel.Slice(i * ldk, bRows);
            TensorPrimitives.Exp(row, row);
        }
    }

    /// <summary>
    /// The full symmetric n × n kernel matrix of <paramref name="rows"/>: the upper triangle by 512-row blocks (each a
    /// single-threaded GEMM against the rows from the block on; blocks run in parallel, bounded by
    /// <see cref="ComputeSettings"/>), then mirrored into the lower triangle, with an exact 1 on the diagonal.
    /// Every value depends only on the data, not on the thread count.
    /// </summary>
    public static void Symmetric(ReadOnlyMemory<float> rows, float[] norms, int n, int dims, float gamma, Memory<float> kernel, int threads = 0, CancellationToken cancellationToken = default)
    {
        const int BlockRows = 512;
        if (kernel.Length < (long)n * n) throw new ArgumentException("The kernel buffer is smaller than n × n.", nameof(kernel));
        int blocks = (n + BlockRows - 1) / BlockRows;
        Parallel.For(0, blocks, ComputeSettings.ParallelOptions(threads, cancellationToken), block =>
        {
            int start = block * BlockRows;
            int count = Math.Min(BlockRows, n - start);
            ReadOnlySpan<float> all = rows.Span;
            Block(all.Slice(start * dims, count * dims), norms.AsSpan(start, count), count,
                all.Slice(start * dims, (n - start) * dims), norms.AsSpan(start, n - start), n - start,
                dims, gamma, kernel.Span[(start * n + start)..], n);
        });
        // Mirror the upper triangle in tiles (a cache-friendly transpose); each tile row writes only its own rows.
        const int Tile = 64;
        int tileRows = (n + Tile - 1) / Tile;
        Parallel.For(0, tileRows, ComputeSettings.ParallelOptions(threads, cancellationToken), tile =>
        {
            int i0 = tile * Tile, i1 = Math.Min(i0 + Tile, n);
            Span<float> k = kernel.Span;
            for (int j0 = 0; j0 <= i0; j0 += Tile)
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < Math.Min(j0 + Tile, i); j++)
                        k[i * n + j] = k[j * n + i];
            for (int i = i0; i < i1; i++) k[i * n + i] = 1f;
        });
    }
}
