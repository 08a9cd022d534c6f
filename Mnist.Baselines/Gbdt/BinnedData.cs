using Mnist.Core.Data;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// Training images binned exactly on their byte value (256 bins per pixel). Pixels that are constant
/// in the training data are dropped; the rest are the "used" features, numbered 0..FeatureCount-1.
/// Two layouts of the same bins: sparse rows (the non-zero pixels of each sample as histogram slot
/// indices <see cref="Slot"/>, for building histograms over a node's sample list — MNIST is
/// about 80 % zeros, and the zero bin is recovered as node total minus the rest) and dense
/// feature-major columns (for partitioning a node's samples on one feature).
/// </summary>
internal sealed class BinnedData
{
    public const int BinCount = 256;

    /// <summary>Features interleaved in one histogram group: bin b of 8 neighbouring features is 8 adjacent slots, one AVX-512 split-scan step.</summary>
    public const int Lanes = 8;

    /// <summary>
    /// Bins per group: the 256 padded to 260. With exactly 256, the same bin of features 8 apart
    /// (a stroke's 253, 253, 253...) would sit a multiple of 4 KiB apart, and the CPU's 4K-aliasing
    /// check then stalls each load on the previous store (measured on the old layout: 3.2 ns per
    /// entry instead of 0.8).
    /// </summary>
    public const int GroupBins = 260;

    /// <summary>
    /// The histogram slot of bin <paramref name="bin"/> of the feature at histogram position
    /// <paramref name="position"/>: groups of <see cref="Lanes"/> features, bin-major inside a group.
    /// </summary>
    public static int Slot(int position, int bin) => ((position / Lanes) * GroupBins + bin) * Lanes + position % Lanes;

    /// <summary>
    /// Used features per entry block; histogram builds go block by block, so that the part of the
    /// histogram being written can stay in cache. MNIST's 717 features make one block: 128-feature
    /// blocks (≈ 0.5 MB of histogram, L2-sized) measured no faster on the root, and slower on small
    /// child nodes and feature samples, where each row's few entries per block cost a row-start look-up each.
    /// </summary>
    public const int BlockFeatures = 1024;

    /// <summary>Slots in a histogram of <paramref name="features"/> features (whole groups).</summary>
    public static int SlotCount(int features) => (features + Lanes - 1) / Lanes * GroupBins * Lanes;

    private BinnedData(int count, int pixelCount, int[] features, int[] rowStarts, int[] entries, byte[] columns)
    {
        Count = count;
        PixelCount = pixelCount;
        Features = features;
        RowStarts = rowStarts;
        Entries = entries;
        Columns = columns;
    }

    /// <summary>Number of samples.</summary>
    public int Count { get; }
    /// <summary>Pixels per image in the source data.</summary>
    public int PixelCount { get; }
    /// <summary>Number of used (non-constant) features.</summary>
    public int FeatureCount => Features.Length;
    /// <summary>Pixel index of each used feature, ascending.</summary>
    public int[] Features { get; }
    /// <summary>Feature blocks of <see cref="BlockFeatures"/> used features each.</summary>
    public int BlockCount => (FeatureCount + BlockFeatures - 1) / BlockFeatures;
    /// <summary>
    /// Where the entries of (block k, sample i) start in <see cref="Entries"/>: index k × Count + i;
    /// they end where the next index starts. Length BlockCount × Count + 1.
    /// </summary>
    public int[] RowStarts { get; }
    /// <summary>Histogram slot (<see cref="Slot"/> of feature and bin, bin ≥ 1) of every non-zero used pixel: block by block, then row by row.</summary>
    public int[] Entries { get; }
    /// <summary>Feature-major bins: <c>Columns[feature × Count + sample]</c>.</summary>
    public byte[] Columns { get; }

    public ReadOnlySpan<byte> Column(int feature) => Columns.AsSpan(feature * Count, Count);

    /// <summary>The byte value 0..255 of a float pixel (exact for pixels made by <see cref="PixelScale"/>).</summary>
    public static byte ToBin(float pixel)
    {
        float scaled = MathF.Round(pixel * 255f);
        return scaled <= 0 ? (byte)0 : scaled >= 255 ? (byte)255 : (byte)scaled;
    }

    /// <summary>Bins one image into <paramref name="destination"/> (PixelCount bytes).</summary>
    public static void ToBins(ReadOnlySpan<float> image, Span<byte> destination)
    {
        for (int p = 0; p < image.Length; p++) destination[p] = ToBin(image[p]);
    }

    /// <summary>All images of <paramref name="data"/> as row-major bytes (Count × PixelCount).</summary>
    public static byte[] RowMajorBins(DigitDataView data)
    {
        var bins = new byte[(long)data.Count * data.PixelCount];
        for (int i = 0; i < data.Count; i++) ToBins(data.GetImage(i), bins.AsSpan(i * data.PixelCount, data.PixelCount));
        return bins;
    }

    public static BinnedData Create(DigitDataView data)
    {
        int n = data.Count, pixels = data.PixelCount;
        byte[] rows = RowMajorBins(data);
        var min = new byte[pixels];
        var max = new byte[pixels];
        min.AsSpan().Fill(255);
        for (int i = 0; i < n; i++)
        {
            var row = rows.AsSpan(i * pixels, pixels);
            for (int p = 0; p < pixels; p++)
            {
                byte v = row[p];
                if (v < min[p]) min[p] = v;
                if (v > max[p]) max[p] = v;
            }
        }
        var features = Enumerable.Range(0, pixels).Where(p => n > 0 && min[p] != max[p]).ToArray();
        int f = features.Length;

        var columns = new byte[(long)f * n];
        long nonZero = 0;
        for (int i = 0; i < n; i++)
        {
            var row = rows.AsSpan(i * pixels, pixels);
            for (int u = 0; u < f; u++)
            {
                byte v = row[features[u]];
                columns[(long)u * n + i] = v;
                if (v != 0) nonZero++;
            }
        }
        var entries = new int[checked((int)nonZero)];
        int blocks = (f + BlockFeatures - 1) / BlockFeatures;
        var rowStarts = new int[blocks * n + 1];
        int next = 0;
        for (int k = 0; k < blocks; k++)
        {
            int blockEnd = Math.Min(f, (k + 1) * BlockFeatures);
            for (int i = 0; i < n; i++)
            {
                rowStarts[k * n + i] = next;
                var row = rows.AsSpan(i * pixels, pixels);
                for (int u = k * BlockFeatures; u < blockEnd; u++)
                {
                    byte v = row[features[u]];
                    if (v != 0) entries[next++] = Slot(u, v);
                }
            }
        }
        rowStarts[blocks * n] = next;

        return new BinnedData(n, pixels, features, rowStarts, entries, columns);
    }
}
