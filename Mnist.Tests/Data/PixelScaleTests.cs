using Mnist.Core.Data;

namespace Mnist.Tests.Data;

[TestFixture]
public class PixelScaleTests
{
    [Test]
    public void IsBytePixels_AcceptsEveryByteOver255()
    {
        Assert.That(PixelScale.IsBytePixels(PixelScale.Table), Is.True);
        Assert.That(PixelScale.IsBytePixels([]), Is.True);
    }

    [TestCase(0.5f)]                 // between 127/255 and 128/255
    [TestCase(-0.1f)]
    [TestCase(1.0001f)]
    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void IsBytePixels_RejectsAnyOtherValue(float odd)
    {
        float[] values = [0f, 1f, 128 / 255f, odd];
        Assert.That(PixelScale.IsBytePixels(values), Is.False);
    }

    [Test]
    public void IsBytePixels_RejectsTheNeighbourOfAByteValue()
    {
        Assert.That(PixelScale.IsBytePixels([BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(37 / 255f) + 1)]), Is.False);
    }
}
