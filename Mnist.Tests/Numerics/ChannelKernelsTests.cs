using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

/// <summary>The batch-normalisation channel kernels against their double-precision twins, whole vectors of channels and ragged ones.</summary>
public class ChannelKernelsTests
{
    private static float[] RandomArray(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 0.5)).ToArray();

    [TestCase(256, 32)]
    [TestCase(196, 64)]
    [TestCase(5, 33)]
    [TestCase(9, 7)]
    [TestCase(3, 1)]
    public void SumsMatchTheReference(int positions, int channels)
    {
        var random = new Random(positions * 100 + channels);
        var u = RandomArray(random, positions * channels);
        var v = RandomArray(random, positions * channels);
        var center = RandomArray(random, channels);
        foreach (bool centred in new[] { false, true })
            foreach (bool withV in new[] { false, true })
            {
                var (sums, products) = (new float[channels], new float[channels]);
                var (wantSums, wantProducts) = (new float[channels], new float[channels]);
                ChannelKernels.Sums(u, withV ? v : default, centred ? center : default, channels, sums, products);
                ReferenceChannelKernels.Sums(u, withV ? v : default, centred ? center : default, channels, wantSums, wantProducts);
                Assert.That(sums, Is.EqualTo(wantSums).Within(1e-5 * positions * 4), $"sums, centred {centred}, v {withV}");
                if (withV) Assert.That(products, Is.EqualTo(wantProducts).Within(1e-5 * positions * 4), $"products, centred {centred}");
            }
    }

    [TestCase(256, 32)]
    [TestCase(5, 33)]
    [TestCase(4, 7)]
    [TestCase(2, 1)]
    public void AffineMatchesTheReference(int positions, int channels)
    {
        var random = new Random(positions + channels);
        var x = RandomArray(random, positions * channels);
        var z = RandomArray(random, positions * channels);
        var scale = RandomArray(random, channels);
        var shift = RandomArray(random, channels);
        var zScale = RandomArray(random, channels);
        foreach (bool withZ in new[] { false, true })
        {
            var got = new float[x.Length];
            var want = new float[x.Length];
            ChannelKernels.Affine(x, scale, shift, withZ ? z : default, withZ ? zScale : default, got);
            ReferenceChannelKernels.Affine(x, scale, shift, withZ ? z : default, withZ ? zScale : default, want);
            Assert.That(got, Is.EqualTo(want).Within(1e-5), $"z {withZ}");
        }
        // In place: y may be x.
        var inPlace = (float[])x.Clone();
        var expected = new float[x.Length];
        ChannelKernels.Affine(x, scale, shift, default, default, expected);
        ChannelKernels.Affine(inPlace, scale, shift, default, default, inPlace);
        Assert.That(inPlace, Is.EqualTo(expected));
    }

    private static float[] Centred(float[] values) => values.Select(v => v - 0.5f).ToArray();

    [TestCase(256, 32)]
    [TestCase(196, 64)]
    [TestCase(5, 33)]
    [TestCase(3, 1)]
    public void TheReluMaskedAndClampedKernelsMatchTheReference(int positions, int channels)
    {
        var random = new Random(positions * 7 + channels);
        var dy = RandomArray(random, positions * channels);
        var x = RandomArray(random, positions * channels);
        // Shifts about 0, so that the clamp and the mask each zero a good share.
        var (scale, shift) = (RandomArray(random, channels), Centred(RandomArray(random, channels)));
        var (maskScale, maskShift) = (RandomArray(random, channels), Centred(RandomArray(random, channels)));
        var zScale = RandomArray(random, channels);

        var (sums, products, wantSums, wantProducts) = (new float[channels], new float[channels], new float[channels], new float[channels]);
        ChannelKernels.Sums(dy, x, default, channels, sums, products, maskScale, maskShift);
        ReferenceChannelKernels.Sums(dy, x, default, channels, wantSums, wantProducts, maskScale, maskShift);
        Assert.That(sums, Is.EqualTo(wantSums).Within(1e-5 * positions * 4), "masked sums");
        Assert.That(products, Is.EqualTo(wantProducts).Within(1e-5 * positions * 4), "masked products");

        var (got, want) = (new float[x.Length], new float[x.Length]);
        ChannelKernels.Affine(dy, scale, shift, x, zScale, got, maskScale: maskScale, maskShift: maskShift);
        ReferenceChannelKernels.Affine(dy, scale, shift, x, zScale, want, maskScale: maskScale, maskShift: maskShift);
        Assert.That(got, Is.EqualTo(want).Within(1e-5), "masked affine");

        ChannelKernels.Affine(x, scale, shift, default, default, got, clamp: true);
        ReferenceChannelKernels.Affine(x, scale, shift, default, default, want, clamp: true);
        Assert.That(got, Is.EqualTo(want).Within(1e-5), "clamped affine");
        Assert.That(got.Count(v => v == 0), Is.InRange(x.Length / 5, x.Length * 4 / 5), "the clamp bites");
    }

    /// <summary>The mask and clamp equal a ReLU applied on its own, exactly: the fused BatchNorm + ReLU relies on it.</summary>
    [TestCase(256, 32)]
    [TestCase(5, 33)]
    public void MaskingAndClampingEqualASeparateRelu(int positions, int channels)
    {
        var random = new Random(positions + 3 * channels);
        var dy = RandomArray(random, positions * channels);
        var x = RandomArray(random, positions * channels);
        var (scale, shift, zScale) = (RandomArray(random, channels), Centred(RandomArray(random, channels)), RandomArray(random, channels));

        var normalised = new float[x.Length];
        ChannelKernels.Affine(x, scale, shift, default, default, normalised);
        var relu = normalised.Select(v => Math.Max(v, 0f)).ToArray();
        var clamped = new float[x.Length];
        ChannelKernels.Affine(x, scale, shift, default, default, clamped, clamp: true);
        Assert.That(clamped, Is.EqualTo(relu));

        var maskedDy = dy.Select((g, i) => relu[i] > 0 ? g : 0f).ToArray();
        var (sums, products, wantSums, wantProducts) = (new float[channels], new float[channels], new float[channels], new float[channels]);
        ChannelKernels.Sums(dy, x, default, channels, sums, products, scale, shift);
        ChannelKernels.Sums(maskedDy, x, default, channels, wantSums, wantProducts);
        Assert.That(sums, Is.EqualTo(wantSums));
        Assert.That(products, Is.EqualTo(wantProducts));

        var (got, want) = (new float[x.Length], new float[x.Length]);
        ChannelKernels.Affine(dy, zScale, shift, x, scale, got, maskScale: scale, maskShift: shift);
        ChannelKernels.Affine(maskedDy, zScale, shift, x, scale, want);
        Assert.That(got, Is.EqualTo(want));
    }
}
