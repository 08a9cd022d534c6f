using Mnist.Core.Data;

namespace Mnist.Tests.Data;

public class DigitDataViewTests
{
    /// <summary>n images of 2×2 pixels; image i has every pixel equal to i/100 and label i % 10.</summary>
    private static DigitDataView Synthetic(int n)
    {
        var pixels = new float[n * 4];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (i / 4) / 100f;
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        return new DigitDataView(2, 2, pixels, labels);
    }

    [Test]
    public void SubsetIsZeroCopyAndComposes()
    {
        var view = Synthetic(20);
        var subset = view.Subset([5, 7, 19]);
        var nested = subset.Subset([2, 0]);
        Assert.Multiple(() =>
        {
            Assert.That(subset.IsContiguous, Is.False);
            Assert.That(subset.GetImage(1)[0], Is.EqualTo(0.07f));
            Assert.That(nested.GetLabels(), Is.EqualTo(new byte[] { 9, 5 }));
            Assert.That(nested.GetIds(), Is.EqualTo(new[] { 20, 6 }), "ids default to 1-based source positions");
            Assert.That(() => subset.ContiguousPixels.Length, Throws.InvalidOperationException);
        });
        // Zero-copy: the subset's image is a window onto the parent's buffer.
        Assert.That(System.Runtime.CompilerServices.Unsafe.AreSame(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(subset.GetImage(0)),
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(view.GetImage(5))), Is.True);
    }

    [Test]
    public void MaterializeCopiesIntoOneContiguousBuffer()
    {
        var subset = Synthetic(20).Subset([3, 1]);
        var copy = subset.Materialize();
        Assert.Multiple(() =>
        {
            Assert.That(copy.IsContiguous, Is.True);
            Assert.That(copy.ContiguousPixels.ToArray(), Is.EqualTo(new[] { .03f, .03f, .03f, .03f, .01f, .01f, .01f, .01f }));
            Assert.That(copy.GetLabels(), Is.EqualTo(new byte[] { 3, 1 }));
        });
    }

    [Test]
    public void ShuffledBatchesCoverEveryImageOnceAndAreSeeded()
    {
        var view = Synthetic(23);
        List<int> Epoch(int seed)
        {
            var seen = new List<int>();
            foreach (var batch in view.ShuffledBatches(5, new Random(seed)))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    int position = batch.Positions[i];
                    Assert.That(batch.Labels[i], Is.EqualTo(position % 10));
                    Assert.That(batch.Pixels[i * 4], Is.EqualTo(position / 100f));
                    seen.Add(position);
                }
            }
            return seen;
        }
        var first = Epoch(1);
        Assert.Multiple(() =>
        {
            Assert.That(first.Order(), Is.EqualTo(Enumerable.Range(0, 23)));
            Assert.That(Epoch(1), Is.EqualTo(first));
            Assert.That(Epoch(2), Is.Not.EqualTo(first));
            Assert.That(view.ShuffledBatches(5, new Random(1), dropLast: true).Count(), Is.EqualTo(4));
        });
    }

    [Test]
    public void ConstructorRejectsInconsistentInput()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new DigitDataView(2, 2, new float[7]), Throws.ArgumentException);
            Assert.That(() => new DigitDataView(2, 2, new float[8], new byte[] { 1 }), Throws.ArgumentException);
            Assert.That(() => new DigitDataView(2, 2, new float[4], new byte[] { 10 }), Throws.ArgumentException);
        });
    }
}
