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
}
