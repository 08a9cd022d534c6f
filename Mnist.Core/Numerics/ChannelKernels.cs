using System.Runtime.Intrinsics;

namespace Mnist.Core.Numerics;

/// <summary>
/// Per-channel kernels over channels-last rows (positions × channels, channel fastest): the sums and affine maps of
/// batch normalisation. A whole vector of channels is handled per instruction and the per-channel operands stay in
/// registers, instead of one short call per position. Each channel accumulates in position order with fused
/// multiply-adds, so the results equal those of the per-position loop they replace.
/// </summary>
internal static class ChannelKernels
{
    /// <summary>
    /// Over the rows of <paramref name="u"/> (its length / channels positions): sums[c] = Σ u[p, c], or Σ (u[p, c] − center[c])²
    /// when <paramref name="center"/> is not empty; and, when <paramref name="v"/> is not empty, products[c] = Σ u[p, c]·v[p, c].
    /// Overwrites sums (and products); float accumulation in position order.
    /// </summary>
    public static void Sums(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> center, int channels, Span<float> sums, Span<float> products)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        int positions = u.Length / channels;
        if (sums.Length < channels) throw new ArgumentException("sums is shorter than the channels.", nameof(sums));
        if (!center.IsEmpty && center.Length < channels) throw new ArgumentException("center is shorter than the channels.", nameof(center));
        if (!v.IsEmpty && (v.Length < positions * channels || products.Length < channels)) throw new ArgumentException("v or products is too short.", nameof(v));
        switch (Gemm.DefaultIsa)
        {
            case GemmIsa.Avx512: Sums<Avx512Ops, Vector512<float>>(u, v, center, channels, positions, sums, products); break;
            case GemmIsa.Avx2: Sums<Avx2Ops, Vector256<float>>(u, v, center, channels, positions, sums, products); break;
            default: Sums<ScalarOps, float>(u, v, center, channels, positions, sums, products); break;
        }
    }

    private static unsafe void Sums<TOps, TVec>(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> center, int channels, int positions,
        Span<float> sums, Span<float> products)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        bool centred = !center.IsEmpty, withV = !v.IsEmpty;
        int w = TOps.Width, vectorChannels = channels - channels % w;
        fixed (float* pu = u, pv = v, pc = center, ps = sums, pp = products)
        {
            for (int c = 0; c < vectorChannels; c += w)
            {
                // −mean is exact, so row + (−mean) is the subtraction.
                TVec a = TOps.Zero, b = TOps.Zero, negativeMean = centred ? TOps.Multiply(TOps.Load(pc + c), TOps.Broadcast(-1f)) : TOps.Zero;
                float* x = pu + c, y = pv + c;
                for (int p = 0; p < positions; p++, x += channels, y += channels)
                {
                    TVec row = TOps.Load(x);
                    if (centred)
                    {
                        TVec deviation = TOps.Add(row, negativeMean);
                        a = TOps.MultiplyAdd(deviation, deviation, a);
                    }
                    else
                    {
                        a = TOps.Add(a, row);
                    }
                    if (withV) b = TOps.MultiplyAdd(row, TOps.Load(y), b);
                }
                TOps.Store(ps + c, a);
                if (withV) TOps.Store(pp + c, b);
            }
            for (int c = vectorChannels; c < channels; c++)
            {
                float a = 0f, b = 0f;
                for (int p = 0; p < positions; p++)
                {
                    float row = pu[(nint)p * channels + c];
                    if (centred)
                    {
                        float deviation = row - pc[c];
                        a = MathF.FusedMultiplyAdd(deviation, deviation, a);
                    }
                    else
                    {
                        a += row;
                    }
                    if (withV) b = MathF.FusedMultiplyAdd(row, pv[(nint)p * channels + c], b);
                }
                ps[c] = a;
                if (withV) pp[c] = b;
            }
        }
    }

    /// <summary>
    /// y[p, c] = x[p, c]·scale[c] + shift[c], then, when <paramref name="z"/> is not empty, y[p, c] = z[p, c]·zScale[c] + y[p, c]
    /// (both fused), over the rows of <paramref name="x"/>. y may be x.
    /// </summary>
    public static void Affine(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> z, ReadOnlySpan<float> zScale, Span<float> y)
    {
        int channels = scale.Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (shift.Length != channels || (!z.IsEmpty && zScale.Length != channels)) throw new ArgumentException("scale, shift and zScale must be one value per channel.", nameof(shift));
        if (y.Length < x.Length || (!z.IsEmpty && z.Length < x.Length)) throw new ArgumentException("y or z is shorter than x.", nameof(y));
        switch (Gemm.DefaultIsa)
        {
            case GemmIsa.Avx512: Affine<Avx512Ops, Vector512<float>>(x, scale, shift, z, zScale, y); break;
            case GemmIsa.Avx2: Affine<Avx2Ops, Vector256<float>>(x, scale, shift, z, zScale, y); break;
            default: Affine<ScalarOps, float>(x, scale, shift, z, zScale, y); break;
        }
    }

    private static unsafe void Affine<TOps, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> z, ReadOnlySpan<float> zScale, Span<float> y)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int channels = scale.Length, positions = x.Length / channels;
        int w = TOps.Width, vectorChannels = channels - channels % w;
        bool withZ = !z.IsEmpty;
        fixed (float* px = x, pz = z, py = y, pa = scale, pb = shift, pq = zScale)
        {
            for (int c = 0; c < vectorChannels; c += w)
            {
                TVec a = TOps.Load(pa + c), b = TOps.Load(pb + c), q = withZ ? TOps.Load(pq + c) : TOps.Zero;
                nint i = c;
                for (int p = 0; p < positions; p++, i += channels)
                {
                    TVec r = TOps.MultiplyAdd(TOps.Load(px + i), a, b);
                    if (withZ) r = TOps.MultiplyAdd(TOps.Load(pz + i), q, r);
                    TOps.Store(py + i, r);
                }
            }
            for (int c = vectorChannels; c < channels; c++)
                for (int p = 0; p < positions; p++)
                {
                    nint i = (nint)p * channels + c;
                    float r = MathF.FusedMultiplyAdd(px[i], pa[c], pb[c]);
                    if (withZ) r = MathF.FusedMultiplyAdd(pz[i], pq[c], r);
                    py[i] = r;
                }
        }
    }
}

/// <summary>The obviously-correct twins of <see cref="ChannelKernels"/>: one element at a time, in double.</summary>
internal static class ReferenceChannelKernels
{
    public static void Sums(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> center, int channels, Span<float> sums, Span<float> products)
    {
        int positions = u.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            double a = 0, b = 0;
            for (int p = 0; p < positions; p++)
            {
                double row = u[p * channels + c];
                a += center.IsEmpty ? row : (row - center[c]) * (row - center[c]);
                if (!v.IsEmpty) b += row * v[p * channels + c];
            }
            sums[c] = (float)a;
            if (!v.IsEmpty) products[c] = (float)b;
        }
    }

    public static void Affine(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> z, ReadOnlySpan<float> zScale, Span<float> y)
    {
        int channels = scale.Length;
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            double r = (double)x[i] * scale[c] + shift[c];
            if (!z.IsEmpty) r += (double)z[i] * zScale[c];
            y[i] = (float)r;
        }
    }
}
