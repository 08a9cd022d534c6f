using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Mnist.Core.Numerics;

/// <summary>
/// Register-tiled GEMM micro-kernels, written once over <see cref="IVectorOps{TVec}"/> and specialised per
/// instruction set and per tile shape (the <see cref="IConstant"/> type arguments fold away the unused rows and
/// columns, so every shape compiles to straight-line code with its accumulators in registers).
/// </summary>
/// <summary>
/// α and β for a tile's epilogue, passed by reference so they stay in memory during the k loop: with AVX2's 16
/// registers, two more live values would push an accumulator out to the stack.
/// </summary>
internal readonly struct TileScale(float alpha, float beta)
{
    public readonly float Alpha = alpha;
    public readonly float Beta = beta;
}

internal static unsafe class GemmKernels<TOps, TVec>
    where TOps : struct, IVectorOps<TVec>
    where TVec : struct
{
    /// <summary>Rows of the general micro-tile.</summary>
    public const int MR = 6;

    /// <summary>
    /// C[0..TM, 0..TN·W] = α·Σₚ A[r, p]·B[p, ·] + β·C, for p in [0, kc).
    /// A element (r, p) is read at <c>a[r·rs + p·ks]</c> — in place for both transpose cases (row-major: rs = lda,
    /// ks = 1; transposed: rs = 1, ks = lda). Row p of B is the TN·W floats at <c>b + p·bStride</c>: a packed
    /// micro-panel, or B itself read in place. Only <paramref name="lastCols"/> lanes of the last vector column are stored (edge tiles);
    /// β = 0 never reads C, so garbage (NaN) in C is ignored.
    /// With <paramref name="slices"/> &gt; 1 the sum runs over that many runs of kc steps, run s reading A from
    /// <c>a + s·sliceStride</c> while B continues where the previous run stopped: the implicit GEMM of a convolution
    /// (one run per kernel row, or per output row), with the accumulators in registers throughout.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TM, TN>(
        int kc, float* a, nint rs, nint ks, float* b, nint bStride,
        float* c, nint ldc, int lastCols, in TileScale scale, int slices = 1, nint sliceStride = 0)
        where TM : struct, IConstant
        where TN : struct, IConstant
    {
        int w = TOps.Width;
        TVec c00 = TOps.Zero, c01 = TOps.Zero, c02 = TOps.Zero, c03 = TOps.Zero;
        TVec c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero, c13 = TOps.Zero;
        TVec c20 = TOps.Zero, c21 = TOps.Zero, c22 = TOps.Zero, c23 = TOps.Zero;
        TVec c30 = TOps.Zero, c31 = TOps.Zero, c32 = TOps.Zero, c33 = TOps.Zero;
        TVec c40 = TOps.Zero, c41 = TOps.Zero, c42 = TOps.Zero, c43 = TOps.Zero;
        TVec c50 = TOps.Zero, c51 = TOps.Zero, c52 = TOps.Zero, c53 = TOps.Zero;

        // Start fetching the C tile now; the k loop below takes thousands of cycles, which hides a miss to L3
        // or DRAM that would otherwise stall the epilogue (large C does not stay cached between k slices).
        if (Sse.IsSupported)
        {
            for (int r = 0; r < TM.Value; r++)
                for (int v = 0; v < TN.Value * w; v += 16)
                    Sse.Prefetch0(c + r * ldc + v);
        }

        // Row pointers are loop-invariant; each k step advances one shared A offset and the B pointer.
        float* a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs, a4 = a + 4 * rs, a5 = a + 5 * rs;
        for (int slice = 0; slice < slices; slice++)
        {
            nint ap = slice * sliceStride;
            for (int p = 0; p < kc; p++, ap += ks, b += bStride)
            {
                TVec b0 = TOps.Load(b);
                TVec b1 = TN.Value > 1 ? TOps.Load(b + w) : default;
                TVec b2 = TN.Value > 2 ? TOps.Load(b + 2 * w) : default;
                TVec b3 = TN.Value > 3 ? TOps.Load(b + 3 * w) : default;

                TVec x = TOps.Broadcast(a0[ap]);
                c00 = TOps.MultiplyAdd(x, b0, c00);
                if (TN.Value > 1) c01 = TOps.MultiplyAdd(x, b1, c01);
                if (TN.Value > 2) c02 = TOps.MultiplyAdd(x, b2, c02);
                if (TN.Value > 3) c03 = TOps.MultiplyAdd(x, b3, c03);
                if (TM.Value > 1)
                {
                    x = TOps.Broadcast(a1[ap]);
                    c10 = TOps.MultiplyAdd(x, b0, c10);
                    if (TN.Value > 1) c11 = TOps.MultiplyAdd(x, b1, c11);
                    if (TN.Value > 2) c12 = TOps.MultiplyAdd(x, b2, c12);
                    if (TN.Value > 3) c13 = TOps.MultiplyAdd(x, b3, c13);
                }
                if (TM.Value > 2)
                {
                    x = TOps.Broadcast(a2[ap]);
                    c20 = TOps.MultiplyAdd(x, b0, c20);
                    if (TN.Value > 1) c21 = TOps.MultiplyAdd(x, b1, c21);
                    if (TN.Value > 2) c22 = TOps.MultiplyAdd(x, b2, c22);
                    if (TN.Value > 3) c23 = TOps.MultiplyAdd(x, b3, c23);
                }
                if (TM.Value > 3)
                {
                    x = TOps.Broadcast(a3[ap]);
                    c30 = TOps.MultiplyAdd(x, b0, c30);
                    if (TN.Value > 1) c31 = TOps.MultiplyAdd(x, b1, c31);
                    if (TN.Value > 2) c32 = TOps.MultiplyAdd(x, b2, c32);
                    if (TN.Value > 3) c33 = TOps.MultiplyAdd(x, b3, c33);
                }
                if (TM.Value > 4)
                {
                    x = TOps.Broadcast(a4[ap]);
                    c40 = TOps.MultiplyAdd(x, b0, c40);
                    if (TN.Value > 1) c41 = TOps.MultiplyAdd(x, b1, c41);
                    if (TN.Value > 2) c42 = TOps.MultiplyAdd(x, b2, c42);
                    if (TN.Value > 3) c43 = TOps.MultiplyAdd(x, b3, c43);
                }
                if (TM.Value > 5)
                {
                    x = TOps.Broadcast(a5[ap]);
                    c50 = TOps.MultiplyAdd(x, b0, c50);
                    if (TN.Value > 1) c51 = TOps.MultiplyAdd(x, b1, c51);
                    if (TN.Value > 2) c52 = TOps.MultiplyAdd(x, b2, c52);
                    if (TN.Value > 3) c53 = TOps.MultiplyAdd(x, b3, c53);
                }
            }
        }

        // No calls from here on: a call would make the JIT keep the accumulators in memory (every vector register
        // is caller-saved on x64), which costs a store and a reload per k step.
        float* tmp = stackalloc float[16];
        float alpha = scale.Alpha, beta = scale.Beta;
        StoreRow<TN>(c, c00, c01, c02, c03, lastCols, alpha, beta, tmp);
        if (TM.Value > 1) StoreRow<TN>(c + ldc, c10, c11, c12, c13, lastCols, alpha, beta, tmp);
        if (TM.Value > 2) StoreRow<TN>(c + 2 * ldc, c20, c21, c22, c23, lastCols, alpha, beta, tmp);
        if (TM.Value > 3) StoreRow<TN>(c + 3 * ldc, c30, c31, c32, c33, lastCols, alpha, beta, tmp);
        if (TM.Value > 4) StoreRow<TN>(c + 4 * ldc, c40, c41, c42, c43, lastCols, alpha, beta, tmp);
        if (TM.Value > 5) StoreRow<TN>(c + 5 * ldc, c50, c51, c52, c53, lastCols, alpha, beta, tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TN>(float* c, TVec x0, TVec x1, TVec x2, TVec x3, int lastCols, float alpha, float beta, float* tmp)
        where TN : struct, IConstant
    {
        int w = TOps.Width;
        bool fullLast = lastCols == w;
        if (TN.Value == 1)
        {
            if (fullLast) Update(c, x0, alpha, beta); else UpdatePartial(c, x0, lastCols, alpha, beta, tmp);
            return;
        }
        Update(c, x0, alpha, beta);
        if (TN.Value == 2)
        {
            if (fullLast) Update(c + w, x1, alpha, beta); else UpdatePartial(c + w, x1, lastCols, alpha, beta, tmp);
            return;
        }
        Update(c + w, x1, alpha, beta);
        if (TN.Value == 3)
        {
            if (fullLast) Update(c + 2 * w, x2, alpha, beta); else UpdatePartial(c + 2 * w, x2, lastCols, alpha, beta, tmp);
            return;
        }
        Update(c + 2 * w, x2, alpha, beta);
        if (fullLast) Update(c + 3 * w, x3, alpha, beta); else UpdatePartial(c + 3 * w, x3, lastCols, alpha, beta, tmp);
    }

    /// <summary>c = α·acc + β·c, with the same operation order everywhere (so tile shape never changes a result).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(float* c, TVec acc, float alpha, float beta)
    {
        TVec t = alpha == 1f ? acc : TOps.Multiply(acc, TOps.Broadcast(alpha));
        if (beta != 0f) t = TOps.MultiplyAdd(TOps.Load(c), TOps.Broadcast(beta), t);
        TOps.Store(c, t);
    }

    /// <summary>
    /// <see cref="Update"/> for the first <paramref name="count"/> lanes only, through the stack copy
    /// <paramref name="tmp"/> (≥ one vector), so no memory past the tile edge is touched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UpdatePartial(float* c, TVec acc, int count, float alpha, float beta, float* tmp)
    {
        for (int j = 0; j < TOps.Width; j++) tmp[j] = j < count && beta != 0f ? c[j] : 0f;
        Update(tmp, acc, alpha, beta);
        for (int j = 0; j < count; j++) c[j] = tmp[j];
    }

    /// <summary>Calls the <see cref="Tile{TM,TN}"/> specialisation for <paramref name="mr"/> rows × <paramref name="nv"/> vectors.</summary>
    public static void TileAny(
        int mr, int nv, int kc, float* a, nint rs, nint ks, float* b, nint bStride,
        float* c, nint ldc, int lastCols, in TileScale scale, int slices = 1, nint sliceStride = 0)
    {
        switch (nv)
        {
            case 4: TileRows<C4>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            case 3: TileRows<C3>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            case 2: TileRows<C2>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            default: TileRows<C1>(mr, kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileRows<TN>(
        int mr, int kc, float* a, nint rs, nint ks, float* b, nint bStride,
        float* c, nint ldc, int lastCols, in TileScale scale, int slices, nint sliceStride)
        where TN : struct, IConstant
    {
        switch (mr)
        {
            case 6: Tile<C6, TN>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            case 5: Tile<C5, TN>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            case 4: Tile<C4, TN>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            case 3: Tile<C3, TN>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            case 2: Tile<C2, TN>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
            default: Tile<C1, TN>(kc, a, rs, ks, b, bStride, c, ldc, lastCols, scale, slices, sliceStride); break;
        }
    }
}
