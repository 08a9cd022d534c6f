using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Mnist.Core.Data;
using static Mnist.Tests.Reliability.HostileInput;

namespace Mnist.Tests.Reliability;

/// <summary>
/// Fuzzing the IDX and Kaggle CSV loaders: truncations, bit flips, absurd headers, very long lines,
/// non-UTF-8 bytes and gzip garbage end in <see cref="DataFormatException"/> (or a correct load when the
/// mutated bytes happen to be valid), never another exception, and never allocate what a header merely claims.
/// </summary>
[TestFixture]
public sealed class HostileDataFileTests : TempFolderFixture
{
    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void IdxFilesTruncatedAtEveryLengthAreRejected([Values] bool gzip)
    {
        byte[] images = IdxImages(3, 4, 4), labels = IdxLabels(3);
        if (gzip) (images, labels) = (TestData.Gzip(images), TestData.Gzip(labels));
        byte[] expectedPixels = IdxImages(3, 4, 4)[16..];
        // Cutting a gzip file in its last bytes (end of the deflate stream, CRC, size) can leave the content whole: it may load, but only correctly.
        for (int length = 0; length < images.Length; length++)
        {
            string path = Write($"images-{length}", images[..length]);
            byte[]? pixels = null;
            bool loaded = LoadsOrRejects(() => pixels = IdxReader.ReadImages(path).Pixels, path, $"images cut at {length}");
            if (loaded) Assert.That(gzip && pixels!.SequenceEqual(expectedPixels), $"images cut at {length} of {images.Length} loaded (content intact: {pixels!.SequenceEqual(expectedPixels)})");
        }
        for (int length = 0; length < labels.Length; length++)
        {
            string path = Write($"labels-{length}", labels[..length]);
            byte[]? read = null;
            bool loaded = LoadsOrRejects(() => read = IdxReader.ReadLabels(path), path, $"labels cut at {length}");
            if (loaded) Assert.That(gzip && read!.SequenceEqual(IdxLabels(3)[8..]), $"labels cut at {length} loaded");
        }
    }

    [Test]
    public void IdxBitFlipsAreRejectedOrLoadConsistently()
    {
        // A property over (file kind, gzip, position, bit): FsCheck picks the cases and shrinks a failure.
        byte[] rawImages = IdxImages(5, 3, 3), rawLabels = IdxLabels(5);
        byte[] gzImages = TestData.Gzip(rawImages), gzLabels = TestData.Gzip(rawLabels);
        int run = 0;
        var cases = Gen.Choose(0, 3).SelectMany(kind => Gen.Choose(0, 10_000).SelectMany(position => Gen.Choose(0, 7).Select(bit => (kind, position, bit))));
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            byte[] source = c.kind switch { 0 => rawImages, 1 => rawLabels, 2 => gzImages, _ => gzLabels };
            byte[] mutated = FlipBit(source, c.position % source.Length, c.bit);
            string path = Write($"flip-{run++}", mutated);
            bool images = c.kind % 2 == 0;
            LoadsOrRejects(() =>
            {
                if (images)
                {
                    var read = IdxReader.ReadImages(path);
                    Assert.That(read.Pixels, Has.Length.EqualTo(read.Count * read.Rows * read.Columns));
                }
                else
                {
                    Assert.That(IdxReader.ReadLabels(path), Has.All.LessThan(10));
                }
            }, path, $"case {c}");
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Test]
    public void HeadersDeclaringHugeCountsOrSizesFailWithoutAllocatingThem([Values] bool gzip)
    {
        var headers = new (string Name, byte[] Bytes, bool Images)[]
        {
            ("billion-images", IdxHeaderOnly(IdxReader.ImagesMagic, 1_000_000_000, 28, 28), true),
            ("million-images", IdxHeaderOnly(IdxReader.ImagesMagic, 1_000_000, 28, 28), true),
            ("max-count", IdxHeaderOnly(IdxReader.ImagesMagic, int.MaxValue, 1, 1), true),
            ("huge-sides", IdxHeaderOnly(IdxReader.ImagesMagic, 100, 4096, 4096), true),
            ("absurd-sides", IdxHeaderOnly(IdxReader.ImagesMagic, 1, 1 << 30, 1 << 30), true),
            ("negative-count", IdxHeaderOnly(IdxReader.ImagesMagic, -5, 28, 28), true),
            ("billion-labels", IdxHeaderOnly(IdxReader.LabelsMagic, 1_000_000_000), false),
            ("max-labels", IdxHeaderOnly(IdxReader.LabelsMagic, int.MaxValue), false),
        };
        foreach (var (name, header, images) in headers)
        {
            // The header and a few bytes of "data": far less than declared.
            byte[] bytes = [.. header, .. new byte[100]];
            string path = Write(name, gzip ? TestData.Gzip(bytes) : bytes);
            long allocated = Allocated(() =>
                Assert.That(LoadsOrRejects(() => { if (images) IdxReader.ReadImages(path); else IdxReader.ReadLabels(path); }, path, name), Is.False, name));
            Assert.That(allocated, Is.LessThan(40L << 20), $"{name}: {allocated:N0} bytes allocated for a {bytes.Length}-byte file");
        }
    }

    [Test]
    public void GzipGarbageIsRejected()
    {
        var random = new Random(7);
        for (int i = 0; i < 60; i++)
        {
            var garbage = new byte[random.Next(3, 4000)];
            random.NextBytes(garbage);
            garbage[0] = 0x1f;
            garbage[1] = 0x8b;
            if (i % 2 == 0 && garbage.Length > 3) garbage[2] = 8; // deflate, so the stream gets past the method byte
            string path = Write($"garbage-{i}.gz", garbage);
            Assert.That(LoadsOrRejects(() => IdxReader.ReadImages(path), path, $"idx garbage {i}"), Is.False);
            Assert.That(LoadsOrRejects(() => IdxReader.ReadLabels(path), path, $"idx labels garbage {i}"), Is.False);
            Assert.That(LoadsOrRejects(() => KaggleCsvReader.Read(path), path, $"csv garbage {i}"), Is.False);
        }
        // A valid gzip stream of garbage, and a valid stream followed by garbage.
        var inner = new byte[5000];
        random.NextBytes(inner);
        string wrapped = Write("wrapped.gz", TestData.Gzip(inner));
        Assert.That(LoadsOrRejects(() => IdxReader.ReadImages(wrapped), wrapped, "gzipped garbage"), Is.False);
        Assert.That(LoadsOrRejects(() => KaggleCsvReader.Read(wrapped), wrapped, "gzipped garbage csv"), Is.False);
        string trailing = Write("trailing.gz", [.. TestData.Gzip(IdxImages(2, 2, 2)), .. inner[..100]]);
        LoadsOrRejects(() => IdxReader.ReadImages(trailing), trailing, "gzip then garbage");
    }

    [Test]
    public void CsvMutationsAreRejectedOrLoadConsistently()
    {
        byte[] csv = Csv(rows: 6, side: 3, labelled: true);
        var random = new Random(11);
        for (int i = 0; i < 400; i++)
        {
            byte[] mutated = (i % 4) switch
            {
                0 => csv[..random.Next(csv.Length)],                                   // truncated anywhere
                1 => FlipBit(csv, random.Next(csv.Length), random.Next(8)),            // one bit flipped
                2 => Insert(csv, random.Next(csv.Length), [0xFF, 0xC3, 0x28, 0xA0]),   // invalid UTF-8
                _ => Insert(csv, random.Next(csv.Length), Encoding.ASCII.GetBytes(",\"\r\n -1e9x"[random.Next(10)..])),
            };
            string path = Write($"m{i}.csv", i % 8 < 4 ? mutated : TestData.Gzip(mutated));
            LoadsOrRejects(() =>
            {
                var view = KaggleCsvReader.Read(path);
                Assert.That(view.Count, Is.InRange(1, 7), $"mutation {i}");
                foreach (float p in view.ContiguousPixels) Assert.That(p, Is.InRange(0f, 1f));
            }, path, $"mutation {i}");
        }
    }

    private static byte[] Insert(byte[] source, int position, byte[] insert) => [.. source[..position], .. insert, .. source[position..]];

    [Test]
    public void CsvWithAVeryLongLineOrAMillionColumnsStaysBounded()
    {
        // A 20 MB line of digits with no comma, after a normal header.
        var longLine = new byte[20 << 20];
        longLine.AsSpan().Fill((byte)'7');
        string longPath = Write("long.csv", [.. Encoding.ASCII.GetBytes("label,p0,p1,p2,p3\n"), .. longLine, (byte)'\n']);
        long allocated = Allocated(() => Assert.That(LoadsOrRejects(() => KaggleCsvReader.Read(longPath), longPath, "long line"), Is.False));
        Assert.That(allocated, Is.LessThan(200L << 20), $"{allocated:N0} bytes for a 20 MB file");

        // A million pixel columns that are not a square: rejected from the header.
        string wide = Write("wide.csv", Encoding.ASCII.GetBytes(string.Join(',', Enumerable.Range(0, 1_000_001).Select(i => "p" + i)) + "\n0\n"));
        allocated = Allocated(() => Assert.That(LoadsOrRejects(() => KaggleCsvReader.Read(wide), wide, "wide"), Is.False));
        Assert.That(allocated, Is.LessThan(300L << 20), $"{allocated:N0} bytes for a {new FileInfo(wide).Length:N0}-byte file");

        // A million columns that do make a square (1000×1000) and one row: a valid, if odd, image.
        var header = string.Join(',', Enumerable.Range(0, 1_000_000).Select(i => "p" + i));
        var row = string.Join(',', Enumerable.Repeat("255", 1_000_000));
        string square = Write("square.csv", Encoding.ASCII.GetBytes(header + "\n" + row + "\n"));
        var view = KaggleCsvReader.Read(square);
        Assert.That((view.Count, view.Height, view.Width, view.HasLabels), Is.EqualTo((1, 1000, 1000, false)));

        // A million columns on a data row under a 4-column header: rejected, bounded.
        string ragged = Write("ragged.csv", Encoding.ASCII.GetBytes("p0,p1,p2,p3\n" + row + "\n"));
        allocated = Allocated(() => Assert.That(LoadsOrRejects(() => KaggleCsvReader.Read(ragged), ragged, "ragged"), Is.False));
        Assert.That(allocated, Is.LessThan(100L << 20), $"{allocated:N0} bytes");
    }

    [Test]
    public void CsvFieldsOutOfRangeOrNotNumbersAreRejected()
    {
        foreach (string bad in new[] { "-1", "256", "1e3", "", " ", "0x1", "3.5", "\"\"", "9999999999999999999999", "１２" })
        {
            string path = Write("bad.csv", Encoding.UTF8.GetBytes($"label,p0,p1,p2,p3\n1,0,{bad},0,0\n"));
            Assert.That(LoadsOrRejects(() => KaggleCsvReader.Read(path), path, $"field '{bad}'"), Is.False, $"field '{bad}' accepted");
        }
        foreach (string label in new[] { "10", "-1", "a" })
        {
            string path = Write("label.csv", Encoding.UTF8.GetBytes($"label,p0,p1,p2,p3\n{label},0,0,0,0\n"));
            Assert.That(LoadsOrRejects(() => KaggleCsvReader.Read(path), path, $"label '{label}'"), Is.False);
        }
    }

    [Test]
    public void DatasetFolderWithHostileFilesGivesDataFormatException()
    {
        string data = Path.Combine(Folder, "data");
        Directory.CreateDirectory(data);
        File.WriteAllBytes(Path.Combine(data, "train-images-idx3-ubyte"), IdxImages(10, 28, 28));
        File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), IdxLabels(10));
        Assert.That(DatasetLoader.Load(data).Train.Count, Is.EqualTo(10));

        File.WriteAllText(Path.Combine(data, DatasetLoader.ChecksumFileName), "not a checksum line\n");
        Assert.That(LoadsOrRejects(() => DatasetLoader.Load(data), Path.Combine(data, DatasetLoader.ChecksumFileName), "bad SHA256SUMS"), Is.False);
        File.WriteAllText(Path.Combine(data, DatasetLoader.ChecksumFileName), new string('0', 64) + "  train-images-idx3-ubyte\n");
        string images = Path.Combine(data, "train-images-idx3-ubyte");
        Assert.That(LoadsOrRejects(() => DatasetLoader.Load(data), images, "checksum mismatch"), Is.False);

        File.Delete(Path.Combine(data, DatasetLoader.ChecksumFileName));
        File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), IdxLabels(9));
        Assert.That(LoadsOrRejects(() => DatasetLoader.Load(data), Path.Combine(data, "train-labels-idx1-ubyte"), "count mismatch"), Is.False);
    }
}
