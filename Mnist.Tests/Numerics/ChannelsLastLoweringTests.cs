using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

public class ChannelsLastLoweringTests
{
    // (height, width, channels, kernel, pad, outHeight, outWidth): 'same', 'valid', 'full' (backward) and awkward sizes.
    [TestCase(5, 6, 2, 3, 1, 5, 6)]
    [TestCase(28, 28, 1, 5, 2, 28, 28)]
    [TestCase(7, 7, 33, 3, 1, 7, 7)]
    [TestCase(9, 8, 3, 3, 0, 7, 6)]
    [TestCase(7, 6, 3, 3, 2, 9, 8)]
    [TestCase(1, 1, 7, 3, 1, 1, 1)]
    [TestCase(4, 5, 2, 2, 0, 4, 5)]
    [TestCase(31, 3, 16, 5, 2, 31, 3)]
    public void MatchesTheReferenceForEveryPixelRange(int height, int width, int channels, int kernel, int pad, int outHeight, int outWidth)
    {
        var random = new Random(height * 100 + width);
        var image = Enumerable.Range(0, height * width * channels).Select(_ => (float)random.NextDouble()).ToArray();
        int patch = kernel * kernel * channels, pixels = outHeight * outWidth;
        foreach (var (first, count) in new[] { (0, pixels), (pixels / 3, pixels - pixels / 3), (pixels - 1, 1) })
        {
            var expected = new float[count * patch];
            var actual = Enumerable.Repeat(float.NaN, count * patch).ToArray();
            ChannelsLastLowering.ReferenceIm2Col(image, height, width, channels, kernel, pad, outHeight, outWidth, first, count, expected);
            ChannelsLastLowering.Im2Col(image, height, width, channels, kernel, pad, outHeight, outWidth, first, count, actual);
            Assert.That(actual, Is.EqualTo(expected), $"pixels {first}..{first + count}");
        }
    }

    [Test]
    public void CentreTapOfASameConvolutionIsThePixelItself()
    {
        var image = Enumerable.Range(0, 4 * 4 * 2).Select(i => (float)i).ToArray();
        var patches = new float[16 * 18];
        ChannelsLastLowering.Im2Col(image, 4, 4, 2, 3, 1, 4, 4, 0, 16, patches);
        for (int pixel = 0; pixel < 16; pixel++)
            Assert.That(patches.AsSpan(pixel * 18 + 8, 2).ToArray(), Is.EqualTo(new[] { pixel * 2f, pixel * 2f + 1 }));
        // Pixel (0,0): the top row and left column of its patch fall outside the image.
        Assert.That(patches.AsSpan(0, 8).ToArray(), Is.EqualTo(new float[8]));
    }
}
