using System.Buffers.Binary;
using System.Text;
using Mnist.Core.Data;

namespace Mnist.Tests.Reliability;

/// <summary>Helpers for the hostile-input tests: valid small files, mutations, and the "DataFormatException or a valid load" check.</summary>
internal static class HostileInput
{
    /// <summary>
    /// Writes a small 28×28 MNIST folder, <c>folder/data</c> (<paramref name="trainImages"/> training and 50 test images
    /// as IDX files), and a Kaggle <c>train.csv</c> (100 rows) and <c>test.csv</c> (20, unlabelled) in <paramref name="folder"/>;
    /// returns the MNIST folder.
    /// </summary>
    public static string WriteSmallDatasets(string folder, int trainImages)
    {
        string data = Path.Combine(folder, "data");
        Directory.CreateDirectory(data);
        File.WriteAllBytes(Path.Combine(data, "train-images-idx3-ubyte"), IdxImages(trainImages, 28, 28));
        File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), IdxLabels(trainImages));
        File.WriteAllBytes(Path.Combine(data, "t10k-images-idx3-ubyte"), IdxImages(50, 28, 28, seed: 2));
        File.WriteAllBytes(Path.Combine(data, "t10k-labels-idx1-ubyte"), IdxLabels(50));
        File.WriteAllBytes(Path.Combine(folder, "train.csv"), Csv(100, 28, labelled: true));
        File.WriteAllBytes(Path.Combine(folder, "test.csv"), Csv(20, 28, labelled: false));
        return data;
    }

    /// <summary>An IDX images file: header (magic, count, rows, columns) then count×rows×columns bytes.</summary>
    public static byte[] IdxImages(int count, int rows, int columns, int seed = 1)
    {
        var random = new Random(seed);
        var bytes = new byte[16 + count * rows * columns];
        IdxHeader(bytes, IdxReader.ImagesMagic, count, rows, columns);
        random.NextBytes(bytes.AsSpan(16));
        return bytes;
    }

    /// <summary>An IDX labels file with labels 0..9 in turn.</summary>
    public static byte[] IdxLabels(int count)
    {
        var bytes = new byte[8 + count];
        IdxHeader(bytes, IdxReader.LabelsMagic, count);
        for (int i = 0; i < count; i++) bytes[8 + i] = (byte)(i % 10);
        return bytes;
    }

    /// <summary>Just a header: the magic and the given dimensions (a file whose body is missing).</summary>
    public static byte[] IdxHeaderOnly(int magic, params int[] dimensions)
    {
        var bytes = new byte[4 + 4 * dimensions.Length];
        IdxHeader(bytes, magic, dimensions);
        return bytes;
    }

    private static void IdxHeader(Span<byte> bytes, int magic, params int[] dimensions)
    {
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < dimensions.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes[(4 + 4 * d)..], dimensions[d]);
    }

    /// <summary>A Kaggle-style CSV with <paramref name="rows"/> rows of <paramref name="side"/>² pixels.</summary>
    public static byte[] Csv(int rows, int side, bool labelled, int seed = 1)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        var header = Enumerable.Range(0, side * side).Select(i => $"pixel{i}");
        text.Append(string.Join(',', labelled ? header.Prepend("label") : header)).Append('\n');
        for (int r = 0; r < rows; r++)
        {
            var cells = Enumerable.Range(0, side * side).Select(_ => random.Next(256).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (labelled) cells = cells.Prepend((r % 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
            text.Append(string.Join(',', cells)).Append('\n');
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    public static byte[] FlipBit(byte[] source, int position, int bit)
    {
        var copy = (byte[])source.Clone();
        copy[position] ^= (byte)(1 << bit);
        return copy;
    }

    /// <summary>
    /// Runs <paramref name="load"/>: a <see cref="DataFormatException"/> (with a one-line message naming
    /// <paramref name="path"/>) or a normal return pass; any other exception fails with <paramref name="what"/>.
    /// Returns true when it loaded.
    /// </summary>
    public static bool LoadsOrRejects(Action load, string path, string what)
    {
        try
        {
            load();
            return true;
        }
        catch (DataFormatException e)
        {
            Assert.That(e.Message, Does.StartWith(path).And.Not.Contain("\n"), what);
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} leaked instead of DataFormatException: {e.Message}");
            return false;
        }
    }

    /// <summary>Bytes allocated on this thread while <paramref name="action"/> ran.</summary>
    public static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
