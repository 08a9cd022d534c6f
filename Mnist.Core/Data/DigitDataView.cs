using Microsoft.ML;

namespace Mnist.Core.Data;

/// <summary>
/// The one data type every loader produces and every trainer consumes: <see cref="Count"/> images of
/// <see cref="Height"/>×<see cref="Width"/> pixels as float32 in [0,1], optional labels 0..9 and
/// optional ids (Kaggle's ImageId, or the record number in the source file).
/// </summary>
/// <remarks>
/// Pixels live in one contiguous row-major buffer shared by a view and all its subsets; a subset is
/// an index list into that buffer (zero-copy). A view made by a loader, or by
/// <see cref="Materialize"/>, is contiguous: <see cref="ContiguousPixels"/> then gives the whole
/// Count × PixelCount block for a matrix product without a copy.
/// <para>
/// It is also an ML.NET <see cref="IDataView"/> (see DigitDataView.DataView.cs): columns <c>Label</c>
/// (key of 10 values, digit d is key d+1), <c>Features</c> (Single vector of PixelCount) and
/// <c>ImageId</c> (Int32), so any ML.NET multiclass trainer fits on it with its default column names.
/// </para>
/// </remarks>
public sealed partial class DigitDataView : IDataView
{
    /// <summary>Number of classes (the digits 0..9).</summary>
    public const int ClassCount = 10;

    private readonly float[] _pixels;     // source buffer, rows of PixelCount floats
    private readonly byte[]? _labels;     // per source row
    private readonly int[]? _ids;         // per source row
    private readonly int[]? _rows;        // null = identity (rows 0..Count-1 of the source)

    /// <summary>A view of <c>pixels.Length / (height × width)</c> row-major images with pixels in [0,1], optional labels (0..9) and optional ids; the buffers are used, not copied.</summary>
    public DigitDataView(int height, int width, float[] pixels, byte[]? labels = null, int[]? ids = null)
        : this(height, width, CheckedCount(height, width, pixels, labels, ids), pixels, labels, ids, rows: null) { }

    /// <summary>A subset of <paramref name="source"/>: its images at <paramref name="rows"/>, sharing its buffers.</summary>
    private DigitDataView(DigitDataView source, int[] rows)
        : this(source.Height, source.Width, rows.Length, source._pixels, source._labels, source._ids, rows) { }

    private DigitDataView(int height, int width, int count, float[] pixels, byte[]? labels, int[]? ids, int[]? rows)
    {
        (Height, Width, PixelCount, Count) = (height, width, height * width, count);
        (_pixels, _labels, _ids, _rows) = (pixels, labels, ids, rows);
    }

    /// <summary>The number of images in <paramref name="pixels"/>, after checking the buffers agree with each other.</summary>
    private static int CheckedCount(int height, int width, float[] pixels, byte[]? labels, int[]? ids)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "Image dimensions must be positive.");
        ArgumentNullException.ThrowIfNull(pixels);
        int pixelCount = checked(height * width);
        if (pixels.Length % pixelCount != 0)
            throw new ArgumentException($"Pixel buffer length {pixels.Length} is not a multiple of {pixelCount}.", nameof(pixels));
        int count = pixels.Length / pixelCount;
        if (labels is not null)
        {
            if (labels.Length != count) throw new ArgumentException($"{labels.Length} labels for {count} images.", nameof(labels));
            foreach (byte label in labels)
                if (label >= ClassCount) throw new ArgumentException($"Label {label} is outside 0..9.", nameof(labels));
        }
        if (ids is not null && ids.Length != count) throw new ArgumentException($"{ids.Length} ids for {count} images.", nameof(ids));
        return count;
    }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }
    /// <summary>Image width in pixels.</summary>
    public int Width { get; }
    /// <summary>Height × Width: the length of one image row.</summary>
    public int PixelCount { get; }
    /// <summary>Number of images in the view.</summary>
    public int Count { get; }
    /// <summary>Whether the images have labels.</summary>
    public bool HasLabels => _labels is not null;
    /// <summary>Whether the images have ids (Kaggle's ImageId); otherwise ids are 1-based source rows.</summary>
    public bool HasIds => _ids is not null;

    /// <summary>
    /// The lowercase hex SHA-256 of the content (shape, every pixel as float32, the labels, in view order): equal
    /// for the same images and labels whatever file they came from. <see cref="Training.ModelFile.Save"/> records it.
    /// </summary>
    public string ContentSha256() => DataFingerprint.Sha256(this);

    /// <summary>True when the images are rows 0..Count-1 of one buffer (no index indirection).</summary>
    public bool IsContiguous => _rows is null;

    /// <summary>All pixels as one Count × PixelCount row-major block. Only for contiguous views.</summary>
    public ReadOnlySpan<float> ContiguousPixels => IsContiguous
        ? _pixels.AsSpan(0, Count * PixelCount)
        : throw new InvalidOperationException("This view is a subset; call Materialize() for a contiguous copy.");

    /// <summary>The pixels of image <paramref name="index"/> (0-based within this view).</summary>
    public ReadOnlySpan<float> GetImage(int index) => _pixels.AsSpan(SourceRow(index) * PixelCount, PixelCount);

    /// <summary>The label (0..9) of image <paramref name="index"/>; throws when the view has no labels.</summary>
    public int GetLabel(int index) => _labels is null
        ? throw new InvalidOperationException("This data view has no labels.")
        : _labels[SourceRow(index)];

    /// <summary>The id of image <paramref name="index"/>: its recorded id, or its 1-based source row.</summary>
    public int GetId(int index) => _ids is null ? SourceRow(index) + 1 : _ids[SourceRow(index)];

    /// <summary>Copies the labels of this view, in order.</summary>
    public byte[] GetLabels()
    {
        if (_labels is null) throw new InvalidOperationException("This data view has no labels.");
        var result = new byte[Count];
        for (int i = 0; i < Count; i++) result[i] = _labels[SourceRow(i)];
        return result;
    }

    /// <summary>Ids of this view, in order (1-based source positions when the source had none).</summary>
    public int[] GetIds()
    {
        var result = new int[Count];
        for (int i = 0; i < Count; i++) result[i] = GetId(i);
        return result;
    }

    /// <summary>Number of images of each class 0..9.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        for (int i = 0; i < Count; i++) counts[GetLabel(i)]++;
        return counts;
    }

    /// <summary>A zero-copy view of the images at <paramref name="indices"/> (positions in this view).</summary>
    public DigitDataView Subset(ReadOnlySpan<int> indices)
    {
        var rows = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} is outside 0..{Count - 1}.");
            rows[i] = _rows is null ? index : _rows[index];
        }
        return new DigitDataView(this, rows);
    }

    /// <summary>The first <paramref name="count"/> images (zero-copy).</summary>
    public DigitDataView Take(int count)
    {
        count = Math.Clamp(count, 0, Count);
        if (count == Count) return this;
        if (_rows is null)
        {
            var rows = new int[count];
            for (int i = 0; i < count; i++) rows[i] = i;
            return new DigitDataView(this, rows);
        }
        return new DigitDataView(this, _rows[..count]);
    }

    /// <summary>A contiguous copy (or this view itself when it already is contiguous).</summary>
    public DigitDataView Materialize()
    {
        if (_rows is null) return this;
        var pixels = new float[(long)Count * PixelCount];
        CopyPixels(0, Count, pixels);
        return new DigitDataView(Height, Width, pixels, _labels is null ? null : GetLabels(), _ids is null ? null : GetIds());
    }

    /// <summary>Copies images [start, start+count) into <paramref name="destination"/> row by row.</summary>
    public void CopyPixels(int start, int count, Span<float> destination)
    {
        if (start < 0 || count < 0 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(count));
        if (destination.Length < count * PixelCount) throw new ArgumentException("Destination is too small.", nameof(destination));
        if (_rows is null)
        {
            _pixels.AsSpan(start * PixelCount, count * PixelCount).CopyTo(destination);
            return;
        }
        for (int i = 0; i < count; i++)
            GetImage(start + i).CopyTo(destination.Slice(i * PixelCount, PixelCount));
    }

    /// <summary>Gathers the images at <paramref name="positions"/> into <paramref name="destination"/>.</summary>
    public void GatherPixels(ReadOnlySpan<int> positions, Span<float> destination)
    {
        if (destination.Length < positions.Length * PixelCount) throw new ArgumentException("Destination is too small.", nameof(destination));
        for (int i = 0; i < positions.Length; i++)
            GetImage(positions[i]).CopyTo(destination.Slice(i * PixelCount, PixelCount));
    }

    /// <summary>Gathers the labels at <paramref name="positions"/> into <paramref name="destination"/>.</summary>
    public void GatherLabels(ReadOnlySpan<int> positions, Span<int> destination)
    {
        for (int i = 0; i < positions.Length; i++) destination[i] = GetLabel(positions[i]);
    }

    /// <summary>
    /// Seeded shuffled mini-batches over this view. The returned batch object is reused from one
    /// batch to the next (no allocation per batch); copy out anything you keep.
    /// </summary>
    public IEnumerable<MiniBatch> ShuffledBatches(int batchSize, Random random, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        random.Shuffle(order);
        return Batches(order, batchSize, dropLast);
    }

    /// <summary>Mini-batches in view order (for prediction), reusing one batch object.</summary>
    public IEnumerable<MiniBatch> OrderedBatches(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        return Batches(order, batchSize, dropLast: false);
    }

    private IEnumerable<MiniBatch> Batches(int[] order, int batchSize, bool dropLast)
    {
        var batch = new MiniBatch(Math.Min(batchSize, Math.Max(1, Count)), PixelCount, HasLabels);
        for (int start = 0; start < order.Length; start += batchSize)
        {
            int size = Math.Min(batchSize, order.Length - start);
            if (dropLast && size < batchSize) yield break;
            var positions = order.AsSpan(start, size);
            batch.Fill(this, positions, start);
            yield return batch;
        }
    }

    private int SourceRow(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside 0..{Count - 1}.");
        return _rows is null ? index : _rows[index];
    }
}

/// <summary>One mini-batch gathered into contiguous buffers; reused between batches.</summary>
public sealed class MiniBatch
{
    private readonly float[] _pixels;
    private readonly int[] _labels;
    private readonly int[] _positions;

    internal MiniBatch(int capacity, int pixelCount, bool hasLabels)
    {
        PixelCount = pixelCount;
        _pixels = new float[capacity * pixelCount];
        _labels = hasLabels ? new int[capacity] : [];
        _positions = new int[capacity];
    }

    /// <summary>Pixels per image.</summary>
    public int PixelCount { get; }
    /// <summary>Number of images in this batch (the last batch may be short).</summary>
    public int Count { get; private set; }
    /// <summary>Offset of this batch within the epoch's order.</summary>
    public int Offset { get; private set; }
    /// <summary>Count × PixelCount row-major pixels.</summary>
    public ReadOnlySpan<float> Pixels => _pixels.AsSpan(0, Count * PixelCount);
    /// <summary>The batch's labels (0..9); throws when the view has no labels.</summary>
    public ReadOnlySpan<int> Labels => _labels.Length == 0 ? throw new InvalidOperationException("The data view has no labels.") : _labels.AsSpan(0, Count);
    /// <summary>Positions of the batch's images in the source view.</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);

    internal void Fill(DigitDataView view, ReadOnlySpan<int> positions, int offset)
    {
        Count = positions.Length;
        Offset = offset;
        positions.CopyTo(_positions);
        view.GatherPixels(positions, _pixels);
        if (_labels.Length > 0) view.GatherLabels(positions, _labels);
    }
}
