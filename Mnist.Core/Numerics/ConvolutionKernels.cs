using System.Runtime.CompilerServices;

namespace Mnist.Core.Numerics;

/// <summary>
/// Register-tiled micro-kernels of the direct (implicit-GEMM) convolution on zero-padded channels-last images,
/// written once over <see cref="IVectorOps{TVec}"/> and specialised per tile shape like <see cref="GemmKernels{TOps,TVec}"/>.
/// Nothing is lowered: the kernels read the taps of each output pixel straight from the padded image, because in
/// channels-last order the k·C taps of one kernel row are one contiguous run of the image.
/// </summary>
internal static unsafe class ConvolutionKernels<TOps, TVec>
    where TOps : struct, IVectorOps<TVec>
    where TVec : struct
{
    /// <summary>Output pixels per forward tile.</summary>
    public const int PixelRows = 6;

    /// <summary>
    /// Forward tile: TM consecutive output pixels of one output row × TN vectors of filters.
    /// out[r, f] = bias[f] + Σ_{ky} Σ_{p &lt; run} a[r·ps + ky·rowStride + p] · b[(ky·run + p)·bs + f].
    /// <paramref name="a"/> is the padded image at tap (0, 0, 0) of the tile's first pixel, <paramref name="ps"/> the
    /// pixel stride (channels), <paramref name="rowStride"/> the padded row stride, <paramref name="run"/> = k·C;
    /// <paramref name="b"/> is the packed weights (rows of <paramref name="bs"/> floats, zero past the filters) at the
    /// tile's first filter. Each output sums its taps in (ky, kx, c) order whatever the tile shape. Only
    /// <paramref name="lastCols"/> lanes of the last vector are stored; <paramref name="bias"/> may be null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardTile<TM, TN>(int kernel, int run, float* a, nint ps, nint rowStride,
        float* b, nint bs, float* bias, float* c, nint ldc, int lastCols)
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
        float* a0 = a, a1 = a + ps, a2 = a + 2 * ps, a3 = a + 3 * ps, a4 = a + 4 * ps, a5 = a + 5 * ps;
        for (int ky = 0; ky < kernel; ky++)
        {
            nint ap = ky * rowStride, end = ap + run;
            for (; ap < end; ap++, b += bs)
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

        // No calls from here on (see GemmKernels.Tile): the bias vectors are loaded only now.
        TVec bias0 = TOps.Zero, bias1 = TOps.Zero, bias2 = TOps.Zero, bias3 = TOps.Zero;
        if (bias != null)
        {
            bias0 = TOps.Load(bias);
            if (TN.Value > 1) bias1 = TOps.Load(bias + w);
            if (TN.Value > 2) bias2 = TOps.Load(bias + 2 * w);
            if (TN.Value > 3) bias3 = TOps.Load(bias + 3 * w);
        }
        float* tmp = stackalloc float[16];
        StoreRow<TN>(c, c00, c01, c02, c03, bias0, bias1, bias2, bias3, lastCols, tmp);
        if (TM.Value > 1) StoreRow<TN>(c + ldc, c10, c11, c12, c13, bias0, bias1, bias2, bias3, lastCols, tmp);
        if (TM.Value > 2) StoreRow<TN>(c + 2 * ldc, c20, c21, c22, c23, bias0, bias1, bias2, bias3, lastCols, tmp);
        if (TM.Value > 3) StoreRow<TN>(c + 3 * ldc, c30, c31, c32, c33, bias0, bias1, bias2, bias3, lastCols, tmp);
        if (TM.Value > 4) StoreRow<TN>(c + 4 * ldc, c40, c41, c42, c43, bias0, bias1, bias2, bias3, lastCols, tmp);
        if (TM.Value > 5) StoreRow<TN>(c + 5 * ldc, c50, c51, c52, c53, bias0, bias1, bias2, bias3, lastCols, tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TN>(float* c, TVec x0, TVec x1, TVec x2, TVec x3, TVec b0, TVec b1, TVec b2, TVec b3, int lastCols, float* tmp)
        where TN : struct, IConstant
    {
        int w = TOps.Width;
        Store(c, TOps.Add(x0, b0), TN.Value == 1 ? lastCols : w, tmp);
        if (TN.Value > 1) Store(c + w, TOps.Add(x1, b1), TN.Value == 2 ? lastCols : w, tmp);
        if (TN.Value > 2) Store(c + 2 * w, TOps.Add(x2, b2), TN.Value == 3 ? lastCols : w, tmp);
        if (TN.Value > 3) Store(c + 3 * w, TOps.Add(x3, b3), lastCols, tmp);
    }

    /// <summary>Stores the first <paramref name="count"/> lanes (a whole vector, or through the stack copy at an edge).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, TVec v, int count, float* tmp)
    {
        if (count == TOps.Width)
        {
            TOps.Store(c, v);
            return;
        }
        TOps.Store(tmp, v);
        for (int j = 0; j < count; j++) c[j] = tmp[j];
    }

    /// <summary>
    /// Weight-gradient tile: TM consecutive taps of one kernel row's run × TN vectors of filters, summed over every
    /// output pixel of one image, in pixel order, and added to <paramref name="g"/> (rows of <paramref name="gs"/> floats):
    /// g[r, f] += Σ_{oy, ox} a[(oy·rowStride + ox·ps) + r] · d[(oy·outWidth + ox)·ds + f].
    /// <paramref name="a"/> is the padded image at the tile's first tap of pixel (0, 0); <paramref name="d"/> the
    /// output gradient (pixel stride <paramref name="ds"/>, whole vectors readable) at the tile's first filter.
    /// Only <paramref name="lastCols"/> lanes of the last vector are stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradientTile<TM, TN>(int outHeight, int outWidth, float* a, nint ps, nint rowStride,
        float* d, nint ds, float* g, nint gs, int lastCols)
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
        TVec c60 = TOps.Zero, c61 = TOps.Zero, c62 = TOps.Zero, c63 = TOps.Zero;
        TVec c70 = TOps.Zero, c71 = TOps.Zero, c72 = TOps.Zero, c73 = TOps.Zero;
        TVec c80 = TOps.Zero, c81 = TOps.Zero, c82 = TOps.Zero, c83 = TOps.Zero;
        TVec c90 = TOps.Zero, c91 = TOps.Zero, c92 = TOps.Zero, c93 = TOps.Zero;
        TVec ca0 = TOps.Zero, ca1 = TOps.Zero, ca2 = TOps.Zero, ca3 = TOps.Zero;
        TVec cb0 = TOps.Zero, cb1 = TOps.Zero, cb2 = TOps.Zero, cb3 = TOps.Zero;
        for (int oy = 0; oy < outHeight; oy++)
        {
            float* x = a + oy * rowStride;
            for (int ox = 0; ox < outWidth; ox++, x += ps, d += ds)
            {
                TVec d0 = TOps.Load(d);
                TVec d1 = TN.Value > 1 ? TOps.Load(d + w) : default;
                TVec d2 = TN.Value > 2 ? TOps.Load(d + 2 * w) : default;
                TVec d3 = TN.Value > 3 ? TOps.Load(d + 3 * w) : default;
                TVec t = TOps.Broadcast(x[0]);
                c00 = TOps.MultiplyAdd(t, d0, c00);
                if (TN.Value > 1) c01 = TOps.MultiplyAdd(t, d1, c01);
                if (TN.Value > 2) c02 = TOps.MultiplyAdd(t, d2, c02);
                if (TN.Value > 3) c03 = TOps.MultiplyAdd(t, d3, c03);
                if (TM.Value > 1)
                {
                    t = TOps.Broadcast(x[1]);
                    c10 = TOps.MultiplyAdd(t, d0, c10);
                    if (TN.Value > 1) c11 = TOps.MultiplyAdd(t, d1, c11);
                    if (TN.Value > 2) c12 = TOps.MultiplyAdd(t, d2, c12);
                    if (TN.Value > 3) c13 = TOps.MultiplyAdd(t, d3, c13);
                }
                if (TM.Value > 2)
                {
                    t = TOps.Broadcast(x[2]);
                    c20 = TOps.MultiplyAdd(t, d0, c20);
                    if (TN.Value > 1) c21 = TOps.MultiplyAdd(t, d1, c21);
                    if (TN.Value > 2) c22 = TOps.MultiplyAdd(t, d2, c22);
                    if (TN.Value > 3) c23 = TOps.MultiplyAdd(t, d3, c23);
                }
                if (TM.Value > 3)
                {
                    t = TOps.Broadcast(x[3]);
                    c30 = TOps.MultiplyAdd(t, d0, c30);
                    if (TN.Value > 1) c31 = TOps.MultiplyAdd(t, d1, c31);
                    if (TN.Value > 2) c32 = TOps.MultiplyAdd(t, d2, c32);
                    if (TN.Value > 3) c33 = TOps.MultiplyAdd(t, d3, c33);
                }
                if (TM.Value > 4)
                {
                    t = TOps.Broadcast(x[4]);
                    c40 = TOps.MultiplyAdd(t, d0, c40);
                    if (TN.Value > 1) c41 = TOps.MultiplyAdd(t, d1, c41);
                    if (TN.Value > 2) c42 = TOps.MultiplyAdd(t, d2, c42);
                    if (TN.Value > 3) c43 = TOps.MultiplyAdd(t, d3, c43);
                }
                if (TM.Value > 5)
                {
                    t = TOps.Broadcast(x[5]);
                    c50 = TOps.MultiplyAdd(t, d0, c50);
                    if (TN.Value > 1) c51 = TOps.MultiplyAdd(t, d1, c51);
                    if (TN.Value > 2) c52 = TOps.MultiplyAdd(t, d2, c52);
                    if (TN.Value > 3) c53 = TOps.MultiplyAdd(t, d3, c53);
                }
                if (TM.Value > 6)
                {
                    t = TOps.Broadcast(x[6]);
                    c60 = TOps.MultiplyAdd(t, d0, c60);
                    if (TN.Value > 1) c61 = TOps.MultiplyAdd(t, d1, c61);
                    if (TN.Value > 2) c62 = TOps.MultiplyAdd(t, d2, c62);
                    if (TN.Value > 3) c63 = TOps.MultiplyAdd(t, d3, c63);
                }
                if (TM.Value > 7)
                {
                    t = TOps.Broadcast(x[7]);
                    c70 = TOps.MultiplyAdd(t, d0, c70);
                    if (TN.Value > 1) c71 = TOps.MultiplyAdd(t, d1, c71);
                    if (TN.Value > 2) c72 = TOps.MultiplyAdd(t, d2, c72);
                    if (TN.Value > 3) c73 = TOps.MultiplyAdd(t, d3, c73);
                }
                if (TM.Value > 8)
                {
                    t = TOps.Broadcast(x[8]);
                    c80 = TOps.MultiplyAdd(t, d0, c80);
                    if (TN.Value > 1) c81 = TOps.MultiplyAdd(t, d1, c81);
                    if (TN.Value > 2) c82 = TOps.MultiplyAdd(t, d2, c82);
                    if (TN.Value > 3) c83 = TOps.MultiplyAdd(t, d3, c83);
                }
                if (TM.Value > 9)
                {
                    t = TOps.Broadcast(x[9]);
                    c90 = TOps.MultiplyAdd(t, d0, c90);
                    if (TN.Value > 1) c91 = TOps.MultiplyAdd(t, d1, c91);
                    if (TN.Value > 2) c92 = TOps.MultiplyAdd(t, d2, c92);
                    if (TN.Value > 3) c93 = TOps.MultiplyAdd(t, d3, c93);
                }
                if (TM.Value > 10)
                {
                    t = TOps.Broadcast(x[10]);
                    ca0 = TOps.MultiplyAdd(t, d0, ca0);
                    if (TN.Value > 1) ca1 = TOps.MultiplyAdd(t, d1, ca1);
                    if (TN.Value > 2) ca2 = TOps.MultiplyAdd(t, d2, ca2);
                    if (TN.Value > 3) ca3 = TOps.MultiplyAdd(t, d3, ca3);
                }
                if (TM.Value > 11)
                {
                    t = TOps.Broadcast(x[11]);
                    cb0 = TOps.MultiplyAdd(t, d0, cb0);
                    if (TN.Value > 1) cb1 = TOps.MultiplyAdd(t, d1, cb1);
                    if (TN.Value > 2) cb2 = TOps.MultiplyAdd(t, d2, cb2);
                    if (TN.Value > 3) cb3 = TOps.MultiplyAdd(t, d3, cb3);
                }
            }
        }
        float* tmp = stackalloc float[16];
        AddRow<TN>(g, c00, c01, c02, c03, lastCols, tmp);
        if (TM.Value > 1) AddRow<TN>(g + gs, c10, c11, c12, c13, lastCols, tmp);
        if (TM.Value > 2) AddRow<TN>(g + 2 * gs, c20, c21, c22, c23, lastCols, tmp);
        if (TM.Value > 3) AddRow<TN>(g + 3 * gs, c30, c31, c32, c33, lastCols, tmp);
        if (TM.Value > 4) AddRow<TN>(g + 4 * gs, c40, c41, c42, c43, lastCols, tmp);
        if (TM.Value > 5) AddRow<TN>(g + 5 * gs, c50, c51, c52, c53, lastCols, tmp);
        if (TM.Value > 6) AddRow<TN>(g + 6 * gs, c60, c61, c62, c63, lastCols, tmp);
        if (TM.Value > 7) AddRow<TN>(g + 7 * gs, c70, c71, c72, c73, lastCols, tmp);
        if (TM.Value > 8) AddRow<TN>(g + 8 * gs, c80, c81, c82, c83, lastCols, tmp);
        if (TM.Value > 9) AddRow<TN>(g + 9 * gs, c90, c91, c92, c93, lastCols, tmp);
        if (TM.Value > 10) AddRow<TN>(g + 10 * gs, ca0, ca1, ca2, ca3, lastCols, tmp);
        if (TM.Value > 11) AddRow<TN>(g + 11 * gs, cb0, cb1, cb2, cb3, lastCols, tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow<TN>(float* g, TVec x0, TVec x1, TVec x2, TVec x3, int lastCols, float* tmp)
        where TN : struct, IConstant
    {
        int w = TOps.Width;
        Add(g, x0, TN.Value == 1 ? lastCols : w, tmp);
        if (TN.Value > 1) Add(g + w, x1, TN.Value == 2 ? lastCols : w, tmp);
        if (TN.Value > 2) Add(g + 2 * w, x2, TN.Value == 3 ? lastCols : w, tmp);
        if (TN.Value > 3) Add(g + 3 * w, x3, lastCols, tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* g, TVec v, int count, float* tmp)
    {
        if (count == TOps.Width)
        {
            TOps.Store(g, TOps.Add(TOps.Load(g), v));
            return;
        }
        TOps.Store(tmp, v);
        for (int j = 0; j < count; j++) g[j] += tmp[j];
    }

    // ---------------------------------------------------------------- dispatch

    public static void ForwardAny(int tm, int tn, int kernel, int run, float* a, nint ps, nint rowStride,
        float* b, nint bs, float* bias, float* c, nint ldc, int lastCols)
    {
        switch (tn)
        {
            case 4: ForwardRows<C4>(tm, kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            case 3: ForwardRows<C3>(tm, kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            case 2: ForwardRows<C2>(tm, kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            default: ForwardRows<C1>(tm, kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
        }
    }

    private static void ForwardRows<TN>(int tm, int kernel, int run, float* a, nint ps, nint rowStride,
        float* b, nint bs, float* bias, float* c, nint ldc, int lastCols)
        where TN : struct, IConstant
    {
        switch (tm)
        {
            case 6: ForwardTile<C6, TN>(kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            case 5: ForwardTile<C5, TN>(kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            case 4: ForwardTile<C4, TN>(kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            case 3: ForwardTile<C3, TN>(kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            case 2: ForwardTile<C2, TN>(kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
            default: ForwardTile<C1, TN>(kernel, run, a, ps, rowStride, b, bs, bias, c, ldc, lastCols); break;
        }
    }

    public static void WeightGradientAny(int tm, int tn, int outHeight, int outWidth, float* a, nint ps, nint rowStride,
        float* d, nint ds, float* g, nint gs, int lastCols)
    {
        switch (tn)
        {
            case 4: WeightGradientRows<C4>(tm, outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 3: WeightGradientRows<C3>(tm, outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 2: WeightGradientRows<C2>(tm, outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            default: WeightGradientRows<C1>(tm, outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
        }
    }

    private static void WeightGradientRows<TN>(int tm, int outHeight, int outWidth, float* a, nint ps, nint rowStride,
        float* d, nint ds, float* g, nint gs, int lastCols)
        where TN : struct, IConstant
    {
        switch (tm)
        {
            case 12: WeightGradientTile<C12, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 11: WeightGradientTile<C11, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 10: WeightGradientTile<C10, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 9: WeightGradientTile<C9, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 8: WeightGradientTile<C8, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 7: WeightGradientTile<C7, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 6: WeightGradientTile<C6, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 5: WeightGradientTile<C5, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 4: WeightGradientTile<C4, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 3: WeightGradientTile<C3, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            case 2: WeightGradientTile<C2, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
            default: WeightGradientTile<C1, TN>(outHeight, outWidth, a, ps, rowStride, d, ds, g, gs, lastCols); break;
        }
    }
}
