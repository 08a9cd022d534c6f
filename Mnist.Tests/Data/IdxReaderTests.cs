using System.Buffers.Binary;
using Mnist.Core.Data;

namespace Mnist.Tests.Data;

public class IdxReaderTests : TempFolderFixture
{
    [Test]
    public void RealMnistFilesLoadWithExpectedShapeAndLabels()
    {
        var dataset = TestData.Mnist;
        Assert.Multiple(() =>
        {
            Assert.That(dataset.Format, Is.EqualTo("mnist-idx"));
            Assert.That(dataset.Train.Count, Is.EqualTo(60000));
            Assert.That(dataset.Test!.Count, Is.EqualTo(10000));
            Assert.That(dataset.Train.Height, Is.EqualTo(28));
            Assert.That(dataset.Train.Width, Is.EqualTo(28));
            // Well-known facts about MNIST: the first training digit is a 5, the first test digit a 7,
            // and the training set holds 5923 zeros and 6742 ones.
            Assert.That(dataset.Train.GetLabel(0), Is.EqualTo(5));
            Assert.That(dataset.Test.GetLabel(0), Is.EqualTo(7));
            Assert.That(dataset.Train.ClassCounts()[0], Is.EqualTo(5923));
            Assert.That(dataset.Train.ClassCounts()[1], Is.EqualTo(6742));
        });
        var pixels = dataset.Train.ContiguousPixels;
        float min = float.MaxValue, max = float.MinValue;
        foreach (float p in pixels) { min = Math.Min(min, p); max = Math.Max(max, p); }
        Assert.That((min, max), Is.EqualTo((0f, 1f)));
    }

    [Test]
    public void RawAndGzipFilesGiveTheSameImages()
    {
        var (images, labels) = WriteSmallSet(count: 3, rows: 2, columns: 3);
        var fromRaw = MnistIdxLoader.Load(Write("raw-images", images), Write("raw-labels", labels));
        var fromGzip = MnistIdxLoader.Load(Write("images.gz", TestData.Gzip(images)), Write("labels.gz", TestData.Gzip(labels)));
        Assert.Multiple(() =>
        {
            Assert.That(fromRaw.Count, Is.EqualTo(3));
            Assert.That((fromRaw.Height, fromRaw.Width), Is.EqualTo((2, 3)));
            Assert.That(fromRaw.GetImage(1).ToArray(), Is.EqualTo(new[] { 6, 7, 8, 9, 10, 11 }.Select(v => v / 255f).ToArray()));
            Assert.That(fromRaw.GetLabels(), Is.EqualTo(new byte[] { 0, 1, 2 }));
            Assert.That(fromGzip.ContiguousPixels.ToArray(), Is.EqualTo(fromRaw.ContiguousPixels.ToArray()));
            Assert.That(fromGzip.GetLabels(), Is.EqualTo(fromRaw.GetLabels()));
        });
    }

    [Test]
    public void WrongMagicIsRejected()
    {
        var (images, labels) = WriteSmallSet(3, 2, 3);
        string labelsAsImages = Write("swapped", labels);
        var error = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(labelsAsImages))!;
        Assert.That(error.Message, Does.Contain("swapped").And.Contain("magic 0x00000801").And.Contain("header"));
        string imagesAsLabels = Write("swapped2", images);
        Assert.That(() => IdxReader.ReadLabels(imagesAsLabels), Throws.TypeOf<DataFormatException>().With.Message.Contain("magic 0x00000803"));
    }

    [Test]
    public void TruncatedImagesNameTheFirstIncompleteRecord()
    {
        var (images, _) = WriteSmallSet(3, 2, 3);
        string raw = Write("truncated", images[..^4]);
        var error = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(raw))!;
        Assert.That(error.Message, Does.Contain("truncated").And.Contain("record 3").And.Contain("declares 3 images"));
        string gz = Write("truncated.gz", TestData.Gzip(images[..^4]));
        Assert.That(() => IdxReader.ReadImages(gz), Throws.TypeOf<DataFormatException>().With.Message.Contain("record 3"));
    }

    [Test]
    public void TruncatedGzipStreamIsADataFormatError()
    {
        var (images, _) = WriteSmallSet(50, 28, 28);
        byte[] gz = TestData.Gzip(images);
        string path = Write("cut.gz", gz[..(gz.Length / 2)]);
        var error = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path))!;
        Assert.That(error.Message, Does.StartWith(path));
    }

    [Test]
    public void TruncatedHeaderIsRejected()
    {
        string path = Write("short", [0, 0, 8, 3, 0, 0]);
        Assert.That(() => IdxReader.ReadImages(path), Throws.TypeOf<DataFormatException>().With.Message.Contain("truncated IDX images header"));
    }

    [Test]
    public void HugeDeclaredCountFailsAsTruncatedWithoutAllocatingIt()
    {
        var header = new byte[16 + 784];
        BinaryPrimitives.WriteInt32BigEndian(header, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1_000_000_000);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
        string gz = Write("huge.gz", TestData.Gzip(header));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        Assert.That(() => IdxReader.ReadImages(gz), Throws.TypeOf<DataFormatException>());
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(allocated, Is.LessThan(64L << 20), "a 10⁹-image header must not allocate 10⁹ images");
    }

    [Test]
    public void LabelOutsideZeroToNineNamesTheRecord()
    {
        var (_, labels) = WriteSmallSet(3, 2, 3);
        labels[8 + 1] = 12;
        string path = Write("labels", labels);
        var error = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path))!;
        Assert.That(error.Message, Is.EqualTo($"{path}, record 2: label 12 is outside 0..9"));
    }

    [Test]
    public void ImageLabelCountMismatchIsRejected()
    {
        var (images, _) = WriteSmallSet(3, 2, 3);
        var (_, labels) = WriteSmallSet(2, 2, 3);
        string labelsPath = Write("labels", labels);
        Assert.That(() => MnistIdxLoader.Load(Write("images", images), labelsPath),
            Throws.TypeOf<DataFormatException>().With.Message.Contain("2 labels but images holds 3 images"));
    }

    [Test]
    public void EmptyAndMissingFilesAreRejected()
    {
        string empty = Write("empty", []);
        Assert.That(() => IdxReader.ReadImages(empty), Throws.TypeOf<DataFormatException>().With.Message.EqualTo($"{empty}: the file is empty"));
        string missing = Path.Combine(Folder, "nope");
        Assert.That(() => IdxReader.ReadLabels(missing), Throws.TypeOf<DataFormatException>().With.Message.EqualTo($"{missing}: file not found"));
    }

    [Test]
    public void TrailingBytesAfterTheDeclaredRecordsAreRejected()
    {
        var (images, _) = WriteSmallSet(3, 2, 3);
        string path = Write("long", [.. images, 1, 2, 3]);
        Assert.That(() => IdxReader.ReadImages(path), Throws.TypeOf<DataFormatException>().With.Message.Contain("unexpected data"));
    }

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>An IDX images file whose pixel bytes count 0,1,2,... and a labels file 0,1,2,...</summary>
    private static (byte[] Images, byte[] Labels) WriteSmallSet(int count, int rows, int columns)
    {
        var images = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(images, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), columns);
        for (int i = 16; i < images.Length; i++) images[i] = (byte)((i - 16) % 256);
        var labels = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(labels, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
        for (int i = 0; i < count; i++) labels[8 + i] = (byte)(i % 10);
        return (images, labels);
    }
}
