using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Mnist.Core.Numerics;

/// <summary>
/// Kernels for narrow outputs (n ≤ 16) with A row-major: C[i, j] = α·dot(A[i, ·], op(B)[·, j]) + β·C[i, j],
/// vectorised along k, so a 10-wide output uses every lane instead of padding n to a vector. Two rows of A share
/// each loaded B vector (TR = 2), giving 2·TJ independent accumulators.
/// </summary>
internal static unsafe class GemmDotKernels<TOps, TVec>
    where TOps : struct, IVectorOps<TVec>
    where TVec : struct
{
    /// <summary>
    /// TR rows (a, a + lda) × TJ columns over k elements. <paramref name="bt"/> is packed: for each k vector q the
    /// TJ vectors of op(B)[q·W .. q·W+W, j] are consecutive, zero past k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TR, TJ>(int k, float* a, nint lda, float* bt, float* c, nint ldc, float alpha, float beta)
        where TR : struct, IConstant
        where TJ : struct, IConstant
    {
        int w = TOps.Width;
        TVec s00 = TOps.Zero, s01 = TOps.Zero, s02 = TOps.Zero, s03 = TOps.Zero, s04 = TOps.Zero, s05 = TOps.Zero, s06 = TOps.Zero, s07 = TOps.Zero, s08 = TOps.Zero, s09 = TOps.Zero, s0A = TOps.Zero, s0B = TOps.Zero;
        TVec s10 = TOps.Zero, s11 = TOps.Zero, s12 = TOps.Zero, s13 = TOps.Zero, s14 = TOps.Zero, s15 = TOps.Zero, s16 = TOps.Zero, s17 = TOps.Zero, s18 = TOps.Zero, s19 = TOps.Zero, s1A = TOps.Zero, s1B = TOps.Zero;

        // The ragged end of each A row is copied into zero-padded stack vectors, so the loop never reads past a row.
        int full = k / w, count = (k + w - 1) / w;
        float* t0 = stackalloc float[w];
        float* t1 = stackalloc float[w];
        for (int l = 0; l < w; l++)
        {
            int p = full * w + l;
            t0[l] = p < k ? a[p] : 0f;
            t1[l] = p < k && TR.Value > 1 ? a[lda + p] : 0f;
        }

        float* next = a + TR.Value * lda;
        float* bp = bt;
        for (int q = 0; q < count; q++, bp += TJ.Value * w)
        {
            // A streams from memory once. The hardware prefetcher does not run far enough ahead of two
            // interleaved rows, so fetch the same position of the next TR rows now: ~1.5× faster on 60000×784.
            // (Prefetches past the end of A are harmless: they never fault.)
            if (Sse.IsSupported)
            {
                Sse.Prefetch0(next + q * w);
                if (TR.Value > 1) Sse.Prefetch0(next + lda + q * w);
            }
            TVec x0 = TOps.Load(q < full ? a + q * w : t0);
            TVec x1 = TR.Value > 1 ? TOps.Load(q < full ? a + lda + q * w : t1) : default;
            { TVec y = TOps.Load(bp + 0 * w); s00 = TOps.MultiplyAdd(x0, y, s00); if (TR.Value > 1) s10 = TOps.MultiplyAdd(x1, y, s10); }
            if (TJ.Value > 1) { TVec y = TOps.Load(bp + 1 * w); s01 = TOps.MultiplyAdd(x0, y, s01); if (TR.Value > 1) s11 = TOps.MultiplyAdd(x1, y, s11); }
            if (TJ.Value > 2) { TVec y = TOps.Load(bp + 2 * w); s02 = TOps.MultiplyAdd(x0, y, s02); if (TR.Value > 1) s12 = TOps.MultiplyAdd(x1, y, s12); }
            if (TJ.Value > 3) { TVec y = TOps.Load(bp + 3 * w); s03 = TOps.MultiplyAdd(x0, y, s03); if (TR.Value > 1) s13 = TOps.MultiplyAdd(x1, y, s13); }
            if (TJ.Value > 4) { TVec y = TOps.Load(bp + 4 * w); s04 = TOps.MultiplyAdd(x0, y, s04); if (TR.Value > 1) s14 = TOps.MultiplyAdd(x1, y, s14); }
            if (TJ.Value > 5) { TVec y = TOps.Load(bp + 5 * w); s05 = TOps.MultiplyAdd(x0, y, s05); if (TR.Value > 1) s15 = TOps.MultiplyAdd(x1, y, s15); }
            if (TJ.Value > 6) { TVec y = TOps.Load(bp + 6 * w); s06 = TOps.MultiplyAdd(x0, y, s06); if (TR.Value > 1) s16 = TOps.MultiplyAdd(x1, y, s16); }
            if (TJ.Value > 7) { TVec y = TOps.Load(bp + 7 * w); s07 = TOps.MultiplyAdd(x0, y, s07); if (TR.Value > 1) s17 = TOps.MultiplyAdd(x1, y, s17); }
            if (TJ.Value > 8) { TVec y = TOps.Load(bp + 8 * w); s08 = TOps.MultiplyAdd(x0, y, s08); if (TR.Value > 1) s18 = TOps.MultiplyAdd(x1, y, s18); }
            if (TJ.Value > 9) { TVec y = TOps.Load(bp + 9 * w); s09 = TOps.MultiplyAdd(x0, y, s09); if (TR.Value > 1) s19 = TOps.MultiplyAdd(x1, y, s19); }
            if (TJ.Value > 10) { TVec y = TOps.Load(bp + 10 * w); s0A = TOps.MultiplyAdd(x0, y, s0A); if (TR.Value > 1) s1A = TOps.MultiplyAdd(x1, y, s1A); }
            if (TJ.Value > 11) { TVec y = TOps.Load(bp + 11 * w); s0B = TOps.MultiplyAdd(x0, y, s0B); if (TR.Value > 1) s1B = TOps.MultiplyAdd(x1, y, s1B); }
        }

        { Put(c + 0, s00, alpha, beta); if (TR.Value > 1) Put(c + ldc + 0, s10, alpha, beta); }
        if (TJ.Value > 1) { Put(c + 1, s01, alpha, beta); if (TR.Value > 1) Put(c + ldc + 1, s11, alpha, beta); }
        if (TJ.Value > 2) { Put(c + 2, s02, alpha, beta); if (TR.Value > 1) Put(c + ldc + 2, s12, alpha, beta); }
        if (TJ.Value > 3) { Put(c + 3, s03, alpha, beta); if (TR.Value > 1) Put(c + ldc + 3, s13, alpha, beta); }
        if (TJ.Value > 4) { Put(c + 4, s04, alpha, beta); if (TR.Value > 1) Put(c + ldc + 4, s14, alpha, beta); }
        if (TJ.Value > 5) { Put(c + 5, s05, alpha, beta); if (TR.Value > 1) Put(c + ldc + 5, s15, alpha, beta); }
        if (TJ.Value > 6) { Put(c + 6, s06, alpha, beta); if (TR.Value > 1) Put(c + ldc + 6, s16, alpha, beta); }
        if (TJ.Value > 7) { Put(c + 7, s07, alpha, beta); if (TR.Value > 1) Put(c + ldc + 7, s17, alpha, beta); }
        if (TJ.Value > 8) { Put(c + 8, s08, alpha, beta); if (TR.Value > 1) Put(c + ldc + 8, s18, alpha, beta); }
        if (TJ.Value > 9) { Put(c + 9, s09, alpha, beta); if (TR.Value > 1) Put(c + ldc + 9, s19, alpha, beta); }
        if (TJ.Value > 10) { Put(c + 10, s0A, alpha, beta); if (TR.Value > 1) Put(c + ldc + 10, s1A, alpha, beta); }
        if (TJ.Value > 11) { Put(c + 11, s0B, alpha, beta); if (TR.Value > 1) Put(c + ldc + 11, s1B, alpha, beta); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, TVec acc, float alpha, float beta)
    {
        float t = alpha * TOps.Sum(acc);
        *c = beta == 0f ? t : t + beta * *c;
    }
}
