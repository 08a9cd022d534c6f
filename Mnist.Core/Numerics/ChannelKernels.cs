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
    /// With <paramref name="maskScale"/> and <paramref name="maskShift"/> (and v, no center), u[p, c] counts only where
    /// v[p, c]·maskScale[c] + maskShift[c] &gt; 0: the backward mask of a ReLU after a batch norm, recomputed from the norm's input.
    /// Overwrites sums (and products); float accumulation in position order.
    /// </summary>
    public static void Sums(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> center, int channels, Span<float> sums, Span<float> products,
        ReadOnlySpan<float> maskScale = default, ReadOnlySpan<float> maskShift = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        int positions = u.Length / channels;
        if (sums.Length < channels) throw new ArgumentException("sums is shorter than the channels.", nameof(sums));
        if (!center.IsEmpty && center.Length < channels) throw new ArgumentException("center is shorter than the channels.", nameof(center));
        if (!v.IsEmpty && (v.Length < positions * channels || products.Length < channels)) throw new ArgumentException("v or products is too short.", nameof(v));
        bool masked = !maskScale.IsEmpty;
        if (masked && (v.IsEmpty || !center.IsEmpty || maskScale.Length < channels || maskShift.Length < channels))
            throw new ArgumentException("a mask needs v, no center, and one scale and shift per channel.", nameof(maskScale));
        switch (Gemm.DefaultIsa)
        {
            case GemmIsa.Avx512: Sums<Avx512Ops, Vector512<float>>(u, v, center, channels, positions, sums, products, maskScale, maskShift); break;
            case GemmIsa.Avx2: Sums<Avx2Ops, Vector256<float>>(u, v, center, channels, positions, sums, products, maskScale, maskShift); break;
            default: Sums<ScalarOps, float>(u, v, center, channels, positions, sums, products, maskScale, maskShift); break;
        }
    }

    private static unsafe void Sums<TOps, TVec>(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> center, int channels, int positions,
        Span<float> sums, Span<float> products, ReadOnlySpan<float> maskScale, ReadOnlySpan<float> maskShift)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        bool centred = !center.IsEmpty, withV = !v.IsEmpty, masked = !maskScale.IsEmpty;
        int w = TOps.Width, vectorChannels = channels - channels % w;
        fixed (float* pu = u, pv = v, pc = center, ps = sums, pp = products, pms = maskScale, pmt = maskShift)
        {
            for (int c = 0; c < vectorChannels; c += w)
            {
                // −mean is exact, so row + (−mean) is the subtraction.
                TVec a = TOps.Zero, b = TOps.Zero, negativeMean = centred ? TOps.Multiply(TOps.Load(pc + c), TOps.Broadcast(-1f)) : TOps.Zero;
                TVec ms = masked ? TOps.Load(pms + c) : TOps.Zero, mt = masked ? TOps.Load(pmt + c) : TOps.Zero;
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
                        if (masked) row = TOps.WherePositive(TOps.MultiplyAdd(TOps.Load(y), ms, mt), row);
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
                        if (masked && !(MathF.FusedMultiplyAdd(pv[(nint)p * channels + c], pms[c], pmt[c]) > 0f)) row = 0f;
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
    /// (both fused), over the rows of <paramref name="x"/>; with <paramref name="clamp"/>, y = max(y, 0) (a ReLU after the
    /// affine map). With <paramref name="maskScale"/> and <paramref name="maskShift"/> (and z), x[p, c] counts only where
    /// z[p, c]·maskScale[c] + maskShift[c] &gt; 0, as in <see cref="Sums"/>. y may be x.
    /// </summary>
    public static void Affine(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> z, ReadOnlySpan<float> zScale, Span<float> y, bool clamp = false,
        ReadOnlySpan<float> maskScale = default, ReadOnlySpan<float> maskShift = default)
    {
        int channels = scale.Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (shift.Length != channels || (!z.IsEmpty && zScale.Length != channels)) throw new ArgumentException("scale, shift and zScale must be one value per channel.", nameof(shift));
        if (y.Length < x.Length || (!z.IsEmpty && z.Length < x.Length)) throw new ArgumentException("y or z is shorter than x.", nameof(y));
        if (!maskScale.IsEmpty && (z.IsEmpty || maskScale.Length != channels || maskShift.Length != channels))
            throw new ArgumentException("a mask needs z and one scale and shift per channel.", nameof(maskScale));
        switch (Gemm.DefaultIsa)
        {
            case GemmIsa.Avx512: Affine<Avx512Ops, Vector512<float>>(x, scale, shift, z, zScale, y, clamp, maskScale, maskShift); break;
            case GemmIsa.Avx2: Affine<Avx2Ops, Vector256<float>>(x, scale, shift, z, zScale, y, clamp, maskScale, maskShift); break;
            default: Affine<ScalarOps, float>(x, scale, shift, z, zScale, y, clamp, maskScale, maskShift); break;
        }
    }

    /// <remarks>Position by position, a row's channel vectors in turn: each row is read once, whatever the channel count.</remarks>
    private static unsafe void Affine<TOps, TVec>(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> z, ReadOnlySpan<float> zScale, Span<float> y, bool clamp, ReadOnlySpan<float> maskScale, ReadOnlySpan<float> maskShift)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int channels = scale.Length, positions = x.Length / channels;
        int w = TOps.Width, vectorChannels = channels - channels % w;
        bool withZ = !z.IsEmpty, masked = !maskScale.IsEmpty;
        fixed (float* px = x, pz = z, py = y, pa = scale, pb = shift, pq = zScale, pms = maskScale, pmt = maskShift)
        {
            nint row = 0;
            for (int p = 0; p < positions; p++, row += channels)
            {
                for (int c = 0; c < vectorChannels; c += w)
                {
                    nint i = row + c;
                    TVec input = TOps.Load(px + i);
                    if (masked) input = TOps.WherePositive(TOps.MultiplyAdd(TOps.Load(pz + i), TOps.Load(pms + c), TOps.Load(pmt + c)), input);
                    TVec r = TOps.MultiplyAdd(input, TOps.Load(pa + c), TOps.Load(pb + c));
                    if (withZ) r = TOps.MultiplyAdd(TOps.Load(pz + i), TOps.Load(pq + c), r);
                    if (clamp) r = TOps.Max(r, TOps.Zero);
                    TOps.Store(py + i, r);
                }
                for (int c = vectorChannels; c < channels; c++)
                {
                    nint i = row + c;
                    float input = px[i];
                    if (masked && !(MathF.FusedMultiplyAdd(pz[i], pms[c], pmt[c]) > 0f)) input = 0f;
                    float r = MathF.FusedMultiplyAdd(input, pa[c], pb[c]);
                    if (withZ) r = MathF.FusedMultiplyAdd(pz[i], pq[c], r);
                    if (clamp) r = MathF.Max(r, 0f);
                    py[i] = r;
                }
            }
        }
    }
}

/// <summary>The obviously-correct twins of <see cref="ChannelKernels"/>: one element at a time, in double.</summary>
internal static class ReferenceChannelKernels
{
    public static void Sums(ReadOnlySpan<float> u, ReadOnlySpan<float> v, ReadOnlySpan<float> center, int channels, Span<float> sums, Span<float> products,
        ReadOnlySpan<float> maskScale = default, ReadOnlySpan<float> maskShift = default)
    {
        int positions = u.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            double a = 0, b = 0;
            for (int p = 0; p < positions; p++)
            {
                double row = u[p * channels + c];
                if (!maskScale.IsEmpty && !ReluPasses(v[p * channels + c], maskScale[c], maskShift[c])) row = 0;
                a += center.IsEmpty ? row : (row - center[c]) * (row - center[c]);
                if (!v.IsEmpty) b += row * v[p * channels + c];
            }
            sums[c] = (float)a;
            if (!v.IsEmpty) products[c] = (float)b;
        }
    }

    public static void Affine(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> z, ReadOnlySpan<float> zScale, Span<float> y, bool clamp = false,
        ReadOnlySpan<float> maskScale = default, ReadOnlySpan<float> maskShift = default)
    {
        int channels = scale.Length;
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            double input = !maskScale.IsEmpty && !ReluPasses(z[i], maskScale[c], maskShift[c]) ? 0 : x[i];
            double r = input * scale[c] + shift[c];
            if (!z.IsEmpty) r += (double)z[i] * zScale[c];
            y[i] = clamp && r < 0 ? 0f : (float)r;
        }
    }

    /// <summary>Whether the ReLU after x·scale + shift passes its gradient: the product taken exactly (as a fused multiply-add rounds it once).</summary>
    private static bool ReluPasses(float x, float scale, float shift) => (double)x * scale + shift > 0;
}
