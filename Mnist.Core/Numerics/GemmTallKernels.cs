using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Mnist.Core.Numerics;

/// <summary>
/// A tall micro-kernel, up to 12 rows × 2 vectors (24 accumulators), for products whose left operand has only a
/// few rows (op(B)ᵀ in the swapped narrow path, e.g. Gᵀ·X with 10 classes): all rows share one pass over the wide
/// right operand, which it reads in place with a software prefetch a few rows ahead, so a matrix streamed from
/// memory is touched exactly once. Same conventions as <see cref="GemmKernels{TOps,TVec}.Tile{TM,TN}"/>.
/// </summary>
internal static unsafe class GemmTallKernels<TOps, TVec>
    where TOps : struct, IVectorOps<TVec>
    where TVec : struct
{
    /// <summary>Rows per strip: 12 × 2 vectors = 24 accumulators with AVX-512's 32 registers, 6 × 2 with AVX2's 16.</summary>
    public static int MR => TOps.MaxTileVectors >= 4 ? 12 : 6;

    /// <summary>
    /// C[0..TM, 0..TN·W] = α·Σₚ A[r, p]·B[p, ·] + β·C, A element (r, p) at a[r·rs + p·ks], B row p at b + p·bStride.
    /// <paramref name="prefetchRows"/> &gt; 0 prefetches B that many rows ahead (for B read in place from memory).
    /// TUnit: rs = 1, so one pointer serves every row (twelve row pointers do not all fit in registers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TM, TN, TUnit>(
        int kc, float* a, nint rs, nint ks, float* b, nint bStride,
        float* c, nint ldc, int lastCols, in TileScale scale, int prefetchRows)
        where TM : struct, IConstant
        where TN : struct, IConstant
        where TUnit : struct, IFlag
    {
        int w = TOps.Width;
        TVec c00 = TOps.Zero, c01 = TOps.Zero;
        TVec c10 = TOps.Zero, c11 = TOps.Zero;
        TVec c20 = TOps.Zero, c21 = TOps.Zero;
        TVec c30 = TOps.Zero, c31 = TOps.Zero;
        TVec c40 = TOps.Zero, c41 = TOps.Zero;
        TVec c50 = TOps.Zero, c51 = TOps.Zero;
        TVec c60 = TOps.Zero, c61 = TOps.Zero;
        TVec c70 = TOps.Zero, c71 = TOps.Zero;
        TVec c80 = TOps.Zero, c81 = TOps.Zero;
        TVec c90 = TOps.Zero, c91 = TOps.Zero;
        TVec cA0 = TOps.Zero, cA1 = TOps.Zero;
        TVec cB0 = TOps.Zero, cB1 = TOps.Zero;
        float* a0 = a + 0 * rs, a1 = a + 1 * rs, a2 = a + 2 * rs, a3 = a + 3 * rs, a4 = a + 4 * rs, a5 = a + 5 * rs, a6 = a + 6 * rs, a7 = a + 7 * rs, a8 = a + 8 * rs, a9 = a + 9 * rs, aA = a + 10 * rs, aB = a + 11 * rs;
        nint ahead = prefetchRows * bStride;
        nint ap = 0;
        for (int p = 0; p < kc; p++, ap += ks, b += bStride)
        {
            if (Sse.IsSupported && prefetchRows > 0)
            {
                Sse.Prefetch0(b + ahead);
                if (TN.Value > 1) Sse.Prefetch0(b + ahead + w);
            }
            TVec b0 = TOps.Load(b);
            TVec b1 = TN.Value > 1 ? TOps.Load(b + w) : default;
            { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 0] : a0[ap]); c00 = TOps.MultiplyAdd(x, b0, c00); if (TN.Value > 1) c01 = TOps.MultiplyAdd(x, b1, c01); }
            if (TM.Value > 1) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 1] : a1[ap]); c10 = TOps.MultiplyAdd(x, b0, c10); if (TN.Value > 1) c11 = TOps.MultiplyAdd(x, b1, c11); }
            if (TM.Value > 2) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 2] : a2[ap]); c20 = TOps.MultiplyAdd(x, b0, c20); if (TN.Value > 1) c21 = TOps.MultiplyAdd(x, b1, c21); }
            if (TM.Value > 3) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 3] : a3[ap]); c30 = TOps.MultiplyAdd(x, b0, c30); if (TN.Value > 1) c31 = TOps.MultiplyAdd(x, b1, c31); }
            if (TM.Value > 4) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 4] : a4[ap]); c40 = TOps.MultiplyAdd(x, b0, c40); if (TN.Value > 1) c41 = TOps.MultiplyAdd(x, b1, c41); }
            if (TM.Value > 5) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 5] : a5[ap]); c50 = TOps.MultiplyAdd(x, b0, c50); if (TN.Value > 1) c51 = TOps.MultiplyAdd(x, b1, c51); }
            if (TM.Value > 6) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 6] : a6[ap]); c60 = TOps.MultiplyAdd(x, b0, c60); if (TN.Value > 1) c61 = TOps.MultiplyAdd(x, b1, c61); }
            if (TM.Value > 7) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 7] : a7[ap]); c70 = TOps.MultiplyAdd(x, b0, c70); if (TN.Value > 1) c71 = TOps.MultiplyAdd(x, b1, c71); }
            if (TM.Value > 8) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 8] : a8[ap]); c80 = TOps.MultiplyAdd(x, b0, c80); if (TN.Value > 1) c81 = TOps.MultiplyAdd(x, b1, c81); }
            if (TM.Value > 9) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 9] : a9[ap]); c90 = TOps.MultiplyAdd(x, b0, c90); if (TN.Value > 1) c91 = TOps.MultiplyAdd(x, b1, c91); }
            if (TM.Value > 10) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 10] : aA[ap]); cA0 = TOps.MultiplyAdd(x, b0, cA0); if (TN.Value > 1) cA1 = TOps.MultiplyAdd(x, b1, cA1); }
            if (TM.Value > 11) { TVec x = TOps.Broadcast(TUnit.Value ? a[ap + 11] : aB[ap]); cB0 = TOps.MultiplyAdd(x, b0, cB0); if (TN.Value > 1) cB1 = TOps.MultiplyAdd(x, b1, cB1); }
        }

        // No calls from here on (see GemmKernels.Tile).
        float* tmp = stackalloc float[16];
        float alpha = scale.Alpha, beta = scale.Beta;
        StoreRow<TN>(c + 0 * ldc, c00, c01, lastCols, alpha, beta, tmp);
        if (TM.Value > 1) StoreRow<TN>(c + 1 * ldc, c10, c11, lastCols, alpha, beta, tmp);
        if (TM.Value > 2) StoreRow<TN>(c + 2 * ldc, c20, c21, lastCols, alpha, beta, tmp);
        if (TM.Value > 3) StoreRow<TN>(c + 3 * ldc, c30, c31, lastCols, alpha, beta, tmp);
        if (TM.Value > 4) StoreRow<TN>(c + 4 * ldc, c40, c41, lastCols, alpha, beta, tmp);
        if (TM.Value > 5) StoreRow<TN>(c + 5 * ldc, c50, c51, lastCols, alpha, beta, tmp);
        if (TM.Value > 6) StoreRow<TN>(c + 6 * ldc, c60, c61, lastCols, alpha, beta, tmp);
        if (TM.Value > 7) StoreRow<TN>(c + 7 * ldc, c70, c71, lastCols, alpha, beta, tmp);
        if (TM.Value > 8) StoreRow<TN>(c + 8 * ldc, c80, c81, lastCols, alpha, beta, tmp);
        if (TM.Value > 9) StoreRow<TN>(c + 9 * ldc, c90, c91, lastCols, alpha, beta, tmp);
        if (TM.Value > 10) StoreRow<TN>(c + 10 * ldc, cA0, cA1, lastCols, alpha, beta, tmp);
        if (TM.Value > 11) StoreRow<TN>(c + 11 * ldc, cB0, cB1, lastCols, alpha, beta, tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TN>(float* c, TVec x0, TVec x1, int lastCols, float alpha, float beta, float* tmp)
        where TN : struct, IConstant
    {
        bool fullLast = lastCols == TOps.Width;
        if (TN.Value == 1)
        {
            if (fullLast) GemmKernels<TOps, TVec>.Update(c, x0, alpha, beta);
            else GemmKernels<TOps, TVec>.UpdatePartial(c, x0, lastCols, alpha, beta, tmp);
            return;
        }
        GemmKernels<TOps, TVec>.Update(c, x0, alpha, beta);
        if (fullLast) GemmKernels<TOps, TVec>.Update(c + TOps.Width, x1, alpha, beta);
        else GemmKernels<TOps, TVec>.UpdatePartial(c + TOps.Width, x1, lastCols, alpha, beta, tmp);
    }

    /// <summary>Calls the specialisation for <paramref name="mr"/> rows × <paramref name="nv"/> vectors.</summary>
    public static void TileAny(
        int mr, int nv, int kc, float* a, nint rs, nint ks, float* b, nint bStride,
        float* c, nint ldc, int lastCols, in TileScale scale, int prefetchRows)
    {
        if (rs == 1)
        {
            if (nv == 2) TileRows<C2, Yes>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows);
            else TileRows<C1, Yes>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows);
        }
        else
        {
            if (nv == 2) TileRows<C2, No>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows);
            else TileRows<C1, No>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileRows<TN, TUnit>(
        int mr, int kc, float* a, nint rs, nint ks, float* b, nint bStride,
        float* c, nint ldc, int lastCols, in TileScale scale, int prefetchRows)
        where TN : struct, IConstant
        where TUnit : struct, IFlag
    {
        switch (mr)
        {
            case 12: Tile<C12, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 11: Tile<C11, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 10: Tile<C10, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 9: Tile<C9, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 8: Tile<C8, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 7: Tile<C7, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 6: Tile<C6, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 5: Tile<C5, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 4: Tile<C4, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 3: Tile<C3, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            case 2: Tile<C2, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
            default: Tile<C1, TN, TUnit>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, prefetchRows); break;
        }
    }
}
