using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// Fixed-point sums of one histogram, node or sample: the gradient Σg·2^GradientShift, and in one
/// long the sample count (high bits, from CountShift) plus Σh·2^HessianShift (low bits). Integer sums
/// are exact, so parent − child equals the direct build bit for bit and no order of addition matters.
/// </summary>
internal readonly record struct FixedPoint(int GradientShift, int HessianShift, int CountShift)
{
    /// <summary>Scales for sums over at most <paramref name="count"/> samples with |g| ≤ 1 and 0 ≤ h ≤ 1.</summary>
    public static FixedPoint For(int count)
    {
        int countBits = 64 - BitOperations.LeadingZeroCount((ulong)Math.Max(count, 1)); // count < 2^countBits
        int countShift = 63 - countBits;
        return new FixedPoint(62 - countBits, countShift - countBits, countShift);
    }

    public long HessianMask => (1L << CountShift) - 1;
    public double Gradient(long gradient) => gradient * Math.ScaleB(1.0, -GradientShift);
    public double Hessian(long hessianCount) => (hessianCount & HessianMask) * Math.ScaleB(1.0, -HessianShift);
    public long Count(long hessianCount) => hessianCount >>> CountShift;
}

/// <summary>The best split found for a leaf: go left when the feature's bin ≤ Threshold; left sums in fixed point.</summary>
internal readonly record struct SplitCandidate(int Feature, byte Threshold, double Gain, long LeftGradient, long LeftHessianCount)
{
    public static readonly SplitCandidate None = new(-1, 0, 0, 0, 0);
    public bool IsValid => Feature >= 0;
}

/// <summary>
/// Grows one regression tree leaf-wise (best-first) on gradient/hessian histograms. One builder is
/// used by one thread at a time; it keeps its buffers (sample index list, histogram slots) between
/// trees. Results depend only on the inputs, never on which builder or thread builds the tree.
/// </summary>
/// <remarks>
/// A histogram slot holds two longs, the <see cref="FixedPoint"/> sums of the gradients and of the
/// hessians with the count, so one bin add is one 16-byte vector add; slots are laid out by
/// <see cref="BinnedData.Slot"/>, 8 features interleaved, so the split scan handles 8 features per
/// AVX-512 step. Bin 0 (pixel value 0, most MNIST pixels) is never accumulated: it is the node total
/// minus the other bins, which the split scan gets for free by scanning from bin 255 downwards. A
/// tree's histograms hold only the features sampled for it (see <see cref="SelectFeatures"/>).
/// </remarks>
internal sealed class TreeBuilder
{
    private readonly BinnedData _data;
    private readonly GbdtOptions _options;
    private readonly FixedPoint _scale;
    private readonly int[] _indices;
    private readonly int[] _scratch;
    // Each sample's fixed-point (gradient, hessian + count) pair, interleaved: one 16-byte load per sample.
    private readonly long[] _samples;
    private readonly List<long[]> _slots = [];
    private readonly Stack<int> _free = new();
    private readonly List<Leaf> _leaves = [];
    private readonly List<int> _nodeFeature = [];
    private readonly List<byte> _nodeThreshold = [];
    private readonly List<int> _nodeLeft = [];
    private readonly List<int> _nodeRight = [];
    private readonly bool _subtractHistograms;
    private int[] _selected = [];
    // The training entries of the selected features only, as slots of a histogram that holds the
    // selected features alone, in order (the data's own entries when every feature is selected).
    private int[] _rowStarts;
    private int[] _entries;
    private int[]? _filteredRowStarts;
    private int[]? _filteredEntries;
    private int[]? _slotMap;
    private int _histogramLength;

    /// <summary>Stopwatch ticks this builder spent per phase, over every tree it built (the fit's profile).</summary>
    public GbdtPhaseTimes Times { get; } = new();

    /// <param name="data">The binned training set.</param>
    /// <param name="options">Growth limits, regularisation and learning rate.</param>
    /// <param name="subtractHistograms">False builds both children's histograms directly (for tests).</param>
    public TreeBuilder(BinnedData data, GbdtOptions options, bool subtractHistograms = true)
    {
        _data = data;
        _options = options;
        _subtractHistograms = subtractHistograms;
        _scale = FixedPoint.For(data.Count);
        _indices = new int[data.Count];
        _scratch = new int[data.Count];
        _samples = new long[2 * data.Count];
        _rowStarts = data.RowStarts;
        _entries = data.Entries;
    }

    internal FixedPoint Scale => _scale;

    private sealed class Leaf
    {
        public int Start;
        public int Count;
        public long Gradient;
        public long HessianCount;
        public int Slot = -1;
        public SplitCandidate Split = SplitCandidate.None;
        public int ParentNode = -1;
        public bool IsLeft;
    }

    /// <summary>
    /// Grows a tree on the gradients (|g| ≤ 1) and hessians (0 ≤ h ≤ 1) of all training samples,
    /// splitting only on <paramref name="selectedFeatures"/> (used-feature indices, ascending), and
    /// adds each sample's leaf value to <paramref name="scores"/>.
    /// </summary>
    public RegressionTree Build(float[] gradients, float[] hessians, int[] selectedFeatures, float[] scores)
    {
        int n = _data.Count;
        long selectStart = Stopwatch.GetTimestamp();
        SelectFeatures(selectedFeatures);
        _leaves.Clear();
        _nodeFeature.Clear();
        _nodeThreshold.Clear();
        _nodeLeft.Clear();
        _nodeRight.Clear();
        _free.Clear();
        for (int s = _slots.Count - 1; s >= 0; s--) _free.Push(s);

        var (gradient, hessianCount) = Quantize(gradients, hessians);
        for (int i = 0; i < n; i++) _indices[i] = i;
        Times.Setup += Stopwatch.GetTimestamp() - selectStart;
        var root = new Leaf { Start = 0, Count = n, Gradient = gradient, HessianCount = hessianCount };
        if (n > 0)
        {
            root.Slot = Rent();
            long start = Stopwatch.GetTimestamp();
            BuildRootHistogram(_slots[root.Slot]);
            Times.RootHistograms += Stopwatch.GetTimestamp() - start;
            FindSplit(root);
        }
        _leaves.Add(root);

        while (_leaves.Count < _options.MaxLeaves)
        {
            int best = -1;
            for (int l = 0; l < _leaves.Count; l++)
                if (_leaves[l].Split.IsValid && (best < 0 || _leaves[l].Split.Gain > _leaves[best].Split.Gain)) best = l;
            if (best < 0) break;
            SplitLeaf(best);
        }

        long leafStart = Stopwatch.GetTimestamp();
        var leafValues = new float[_leaves.Count];
        var left = _nodeLeft.ToArray();
        var right = _nodeRight.ToArray();
        double rate = _options.LearningRate, lambda = _options.L2;
        for (int l = 0; l < _leaves.Count; l++)
        {
            var leaf = _leaves[l];
            double denominator = _scale.Hessian(leaf.HessianCount) + lambda;
            float value = denominator > 0 ? (float)(-rate * _scale.Gradient(leaf.Gradient) / denominator) : 0f;
            leafValues[l] = value;
            if (leaf.ParentNode >= 0)
            {
                if (leaf.IsLeft) left[leaf.ParentNode] = ~l;
                else right[leaf.ParentNode] = ~l;
            }
            foreach (int i in _indices.AsSpan(leaf.Start, leaf.Count)) scores[i] += value;
        }
        var features = _nodeFeature.Select(u => _data.Features[u]).ToArray();
        Times.LeafScores += Stopwatch.GetTimestamp() - leafStart;
        return new RegressionTree(features, _nodeThreshold.ToArray(), left, right, leafValues);
    }

    /// <summary>Each sample's gradient and hessian (with its count of 1) in fixed point; returns their totals.</summary>
    private (long Gradient, long HessianCount) Quantize(float[] gradients, float[] hessians)
    {
        double gradientScale = Math.ScaleB(1.0, _scale.GradientShift), hessianScale = Math.ScaleB(1.0, _scale.HessianShift);
        long one = 1L << _scale.CountShift, gradient = 0, hessianCount = 0;
        for (int i = 0; i < _data.Count; i++)
        {
            float g = gradients[i], h = hessians[i];
            if (!(Math.Abs(g) <= 1f) || !(h >= 0f && h <= 1f))
                throw new ArgumentOutOfRangeException(nameof(gradients), $"sample {i}: gradient {g} or hessian {h} is outside |g| ≤ 1, 0 ≤ h ≤ 1");
            _samples[2 * i] = (long)Math.Round(g * gradientScale);
            _samples[2 * i + 1] = (long)Math.Round(h * hessianScale) + one;
            gradient += _samples[2 * i];
            hessianCount += _samples[2 * i + 1];
        }
        return (gradient, hessianCount);
    }

    private void SplitLeaf(int leafIndex)
    {
        var leaf = _leaves[leafIndex];
        var split = leaf.Split;
        int node = _nodeFeature.Count;
        _nodeFeature.Add(split.Feature);
        _nodeThreshold.Add(split.Threshold);
        _nodeLeft.Add(0);
        _nodeRight.Add(0);
        if (leaf.ParentNode >= 0)
        {
            if (leaf.IsLeft) _nodeLeft[leaf.ParentNode] = node;
            else _nodeRight[leaf.ParentNode] = node;
        }

        long start = Stopwatch.GetTimestamp();
        int leftCount = Partition(leaf.Start, leaf.Count, _data.Column(split.Feature), split.Threshold);
        long partitioned = Stopwatch.GetTimestamp();
        Times.Partition += partitioned - start;
        if (leftCount != _scale.Count(split.LeftHessianCount))
            throw new InvalidOperationException($"Partition put {leftCount} samples left where the histogram counted {_scale.Count(split.LeftHessianCount)}.");
        var left = new Leaf
        {
            Start = leaf.Start, Count = leftCount, Gradient = split.LeftGradient, HessianCount = split.LeftHessianCount,
            ParentNode = node, IsLeft = true,
        };
        var right = new Leaf
        {
            Start = leaf.Start + leftCount, Count = leaf.Count - leftCount,
            Gradient = leaf.Gradient - split.LeftGradient, HessianCount = leaf.HessianCount - split.LeftHessianCount,
            ParentNode = node, IsLeft = false,
        };
        _leaves[leafIndex] = left;
        _leaves.Add(right);
        // The tree is full after this split: the children will not be split, so they need no histograms.
        if (_leaves.Count >= _options.MaxLeaves)
        {
            Release(leaf);
            return;
        }
        var (smaller, larger) = left.Count <= right.Count ? (left, right) : (right, left);
        smaller.Slot = Rent();
        BuildHistogram(_slots[smaller.Slot], _indices.AsSpan(smaller.Start, smaller.Count));
        long built = Stopwatch.GetTimestamp();
        Times.Histograms += built - partitioned;
        if (_subtractHistograms)
        {
            larger.Slot = leaf.Slot;
            Subtract(_slots[larger.Slot], _slots[smaller.Slot]);
            Times.Subtraction += Stopwatch.GetTimestamp() - built;
        }
        else
        {
            Release(leaf);
            larger.Slot = Rent();
            BuildHistogram(_slots[larger.Slot], _indices.AsSpan(larger.Start, larger.Count));
        }
        leaf.Slot = -1;
        FindSplit(left);
        FindSplit(right);
    }

    /// <summary>
    /// Makes the tree use only <paramref name="selected"/> features (ascending): its histograms hold
    /// those features alone, position p for feature selected[p]. With a feature fraction below 1 the
    /// training entries are filtered and renumbered once per tree, so histogram builds neither read
    /// nor write bins of features the tree cannot split on, and a histogram is fraction × the full size.
    /// </summary>
    private void SelectFeatures(int[] selected)
    {
        _selected = selected;
        int length = 2 * BinnedData.SlotCount(selected.Length);
        if (length != _histogramLength)
        {
            _slots.Clear();
            _free.Clear();
            _histogramLength = length;
        }
        if (selected.Length == _data.FeatureCount)
        {
            _rowStarts = _data.RowStarts;
            _entries = _data.Entries;
            return;
        }
        // Every data slot's slot in the tree's histogram (−1 for a feature not selected): filtering is
        // then one table look-up per entry.
        _slotMap ??= new int[BinnedData.SlotCount(_data.FeatureCount)];
        _slotMap.AsSpan().Fill(-1);
        for (int p = 0; p < selected.Length; p++)
            for (int bin = 1; bin < BinnedData.BinCount; bin++)
                _slotMap[BinnedData.Slot(selected[p], bin)] = BinnedData.Slot(p, bin);
        _filteredRowStarts ??= new int[_data.RowStarts.Length];
        _filteredEntries ??= new int[_data.Entries.Length];
        int[] sourceStarts = _data.RowStarts, source = _data.Entries, starts = _filteredRowStarts, target = _filteredEntries;
        ref int map = ref MemoryMarshal.GetArrayDataReference(_slotMap);
        int next = 0, rows = sourceStarts.Length - 1;
        // Block k of the filtered entries holds the selected features of the data's block k.
        for (int r = 0; r < rows; r++)
        {
            starts[r] = next;
            int end = sourceStarts[r + 1];
            for (int e = sourceStarts[r]; e < end; e++)
            {
                int slot = Unsafe.Add(ref map, source[e]);
                target[next] = slot;
                next += slot >= 0 ? 1 : 0;
            }
        }
        starts[rows] = next;
        _rowStarts = starts;
        _entries = target;
    }

    /// <summary>Stable in-place partition of indices[start, start+count): bin ≤ threshold first. Returns the left count.</summary>
    private int Partition(int start, int count, ReadOnlySpan<byte> column, byte threshold)
    {
        var indices = _indices.AsSpan(start, count);
        int left = 0, right = 0;
        for (int k = 0; k < indices.Length; k++)
        {
            int i = indices[k];
            if (column[i] <= threshold) indices[left++] = i;
            else _scratch[right++] = i;
        }
        _scratch.AsSpan(0, right).CopyTo(indices[left..]);
        return left;
    }

    private int Rent()
    {
        if (_free.Count > 0) return _free.Pop();
        _slots.Add(new long[_histogramLength]);
        return _slots.Count - 1;
    }

    private void Release(Leaf leaf)
    {
        if (leaf.Slot >= 0) _free.Push(leaf.Slot);
        leaf.Slot = -1;
    }

    /// <summary>
    /// Builds the selected features' histograms of the samples at <paramref name="indices"/> from the
    /// sparse entries, one feature block at a time (see <see cref="BinnedData.BlockFeatures"/>).
    /// </summary>
    internal void BuildHistogram(long[] histogram, ReadOnlySpan<int> indices)
    {
        histogram.AsSpan(0, _histogramLength).Clear();
        ref long bins = ref MemoryMarshal.GetArrayDataReference(histogram);
        ref int entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        ref long samples = ref MemoryMarshal.GetArrayDataReference(_samples);
        int n = _data.Count;
        for (int block = 0; block < _data.BlockCount; block++)
        {
            var rowStarts = _rowStarts.AsSpan(block * n, n + 1);
            foreach (int i in indices)
            {
                var add = Vector128.LoadUnsafe(ref samples, (nuint)i * 2);
                int end = rowStarts[i + 1];
                for (int e = rowStarts[i]; e < end; e++)
                {
                    ref long bin = ref Unsafe.Add(ref bins, (nint)Unsafe.Add(ref entries, e) * 2);
                    Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref bin) + add, ref bin);
                }
            }
        }
    }

    /// <summary>
    /// The histogram of all samples (a root), feature by feature from the sparse columns: each feature's
    /// 255 bins are accumulated in four small local histograms (L1-resident; consecutive samples
    /// rotate through them, so runs of the same bin, as in a stroke's 253, 253, 253, do not wait on
    /// each other's stores), then summed into the feature's slots. Only the selected features are read.
    /// </summary>
    internal void BuildRootHistogram(long[] histogram)
    {
        histogram.AsSpan(0, _histogramLength).Clear();
        Span<long> local = stackalloc long[4 * 2 * BinnedData.BinCount];
        ref long samples = ref MemoryMarshal.GetArrayDataReference(_samples);
        ref long sums = ref MemoryMarshal.GetReference(local);
        int[] starts = _data.ColumnStarts, rows = _data.ColumnRows;
        byte[] bins = _data.ColumnBins;
        const int Copy = 2 * BinnedData.BinCount;
        for (int p = 0; p < _selected.Length; p++)
        {
            local.Clear();
            int u = _selected[p], start = starts[u], end = starts[u + 1], k = start;
            for (; k + 4 <= end; k += 4)
            {
                for (int c = 0; c < 4; c++)
                {
                    ref long sum = ref Unsafe.Add(ref sums, c * Copy + 2 * bins[k + c]);
                    (Vector128.LoadUnsafe(ref sum) + Vector128.LoadUnsafe(ref samples, (nuint)rows[k + c] * 2)).StoreUnsafe(ref sum);
                }
            }
            for (; k < end; k++)
            {
                ref long sum = ref Unsafe.Add(ref sums, 2 * bins[k]);
                (Vector128.LoadUnsafe(ref sum) + Vector128.LoadUnsafe(ref samples, (nuint)rows[k] * 2)).StoreUnsafe(ref sum);
            }
            for (int bin = 1; bin < BinnedData.BinCount; bin++)
            {
                var total = Vector128.LoadUnsafe(ref sums, (nuint)(2 * bin)) + Vector128.LoadUnsafe(ref sums, (nuint)(Copy + 2 * bin))
                    + Vector128.LoadUnsafe(ref sums, (nuint)(2 * Copy + 2 * bin)) + Vector128.LoadUnsafe(ref sums, (nuint)(3 * Copy + 2 * bin));
                total.CopyTo(histogram.AsSpan(2 * BinnedData.Slot(p, bin), 2));
            }
        }
    }

    /// <summary>The slow twin of <see cref="BuildHistogram"/>: the same histogram from the dense feature-major columns.</summary>
    internal void BuildHistogramReference(long[] histogram, ReadOnlySpan<int> indices)
    {
        Array.Clear(histogram);
        for (int p = 0; p < _selected.Length; p++)
        {
            var column = _data.Column(_selected[p]);
            foreach (int i in indices)
            {
                byte bin = column[i];
                if (bin == 0) continue;
                int slot = BinnedData.Slot(p, bin);
                histogram[2 * slot] += _samples[2 * i];
                histogram[2 * slot + 1] += _samples[2 * i + 1];
            }
        }
    }

    /// <summary>The ways to build a histogram: sparse rows (any node), sparse columns (the root), dense reference twin.</summary>
    internal enum HistogramKernel { Rows, Columns, Reference }

    /// <summary>
    /// For tests and the benchmark: quantizes the gradients and hessians, then returns the histogram of
    /// the samples at <paramref name="indices"/> over <paramref name="selected"/> features (built by
    /// <paramref name="kernel"/>) with the samples' fixed-point totals.
    /// </summary>
    internal (long[] Histogram, long Gradient, long HessianCount) Histogram(ReadOnlySpan<int> indices, float[] gradients, float[] hessians, int[] selected,
        HistogramKernel kernel = HistogramKernel.Rows)
    {
        SelectFeatures(selected);
        Quantize(gradients, hessians);
        var histogram = new long[_histogramLength];
        if (kernel == HistogramKernel.Reference) BuildHistogramReference(histogram, indices);
        else if (kernel == HistogramKernel.Rows) BuildHistogram(histogram, indices);
        else if (indices.Length == _data.Count) BuildRootHistogram(histogram);
        else throw new ArgumentException("The column kernel builds the histogram of all samples only.", nameof(kernel));
        long gradient = 0, hessianCount = 0;
        foreach (int i in indices)
        {
            gradient += _samples[2 * i];
            hessianCount += _samples[2 * i + 1];
        }
        return (histogram, gradient, hessianCount);
    }

    /// <summary>larger −= smaller (histogram subtraction, exact).</summary>
    internal static void Subtract(long[] larger, long[] smaller) => TensorPrimitives.Subtract(larger, smaller, larger);

    /// <summary>Finds the leaf's best split; releases its histogram when it cannot be split.</summary>
    private void FindSplit(Leaf leaf)
    {
        long start = Stopwatch.GetTimestamp();
        leaf.Split = SplitCandidate.None;
        if (leaf.Count >= 2 * _options.MinSamplesLeaf && leaf.Slot >= 0)
            leaf.Split = FindBestSplit(_slots[leaf.Slot], _selected, leaf.Gradient, leaf.HessianCount, _options, _scale);
        if (!leaf.Split.IsValid) Release(leaf);
        Times.SplitSearch += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>
    /// The split maximising G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) under the leaf-size limits. Each
    /// feature's bins (histogram position p holds feature selected[p]) are scanned from 255 down: the
    /// right side grows, the left side is the total minus it, so bin 0 is never read. Within a feature
    /// a candidate must beat the best so far strictly (so ties keep the highest bin), compared as
    /// numerator·bestDenominator &gt; bestNumerator·denominator without dividing; across features the
    /// scores are compared and ties keep the first feature. The threshold is placed midway between the
    /// left side's largest bin and the right side's smallest, as the values in between were not seen in
    /// the node. <paramref name="reference"/> scans feature by feature in scalar code (the slow twin of
    /// the AVX-512 scan, which also runs where AVX-512 is missing).
    /// </summary>
    internal static SplitCandidate FindBestSplit(long[] histogram, int[] selected, long gradient, long hessianCount, GbdtOptions options, FixedPoint scale, bool reference = false)
    {
        int lanes = (selected.Length + BinnedData.Lanes - 1) / BinnedData.Lanes * BinnedData.Lanes;
        Span<double> numerators = lanes <= 1024 ? stackalloc double[lanes] : new double[lanes];
        Span<double> denominators = lanes <= 1024 ? stackalloc double[lanes] : new double[lanes];
        Span<long> bestBins = lanes <= 1024 ? stackalloc long[lanes] : new long[lanes];
        var limits = new ScanLimits(options, scale, gradient, hessianCount);
        if (!reference && Avx512F.IsSupported && Avx512DQ.IsSupported)
            for (int group = 0; group < lanes / BinnedData.Lanes; group++)
                ScanGroup(histogram, group, limits, scale, numerators, denominators, bestBins);
        else
            for (int p = 0; p < lanes; p++)
                ScanFeature(histogram, p, limits, scale, out numerators[p], out denominators[p], out bestBins[p]);

        double parentScore = limits.ParentNumerator / limits.ParentDenominator;
        double bestScore = parentScore;
        int bestPosition = -1;
        for (int p = 0; p < selected.Length; p++)
        {
            if (bestBins[p] == 0) continue;
            double score = numerators[p] / denominators[p];
            if (score > bestScore)
            {
                bestScore = score;
                bestPosition = p;
            }
        }
        if (bestPosition < 0) return SplitCandidate.None;

        // The right side's sums at the chosen bin, and the left side's largest occupied bin (0 when none below).
        int bestBin = (int)bestBins[bestPosition];
        long rightGradient = 0, rightHessianCount = 0;
        for (int b = BinnedData.BinCount - 1; b >= bestBin; b--)
        {
            int slot = BinnedData.Slot(bestPosition, b);
            rightGradient += histogram[2 * slot];
            rightHessianCount += histogram[2 * slot + 1];
        }
        int leftMax = 0;
        for (int b = bestBin - 1; b >= 1; b--)
            if (scale.Count(histogram[2 * BinnedData.Slot(bestPosition, b) + 1]) != 0) { leftMax = b; break; }
        byte threshold = (byte)((leftMax + bestBin - 1) / 2);
        return new SplitCandidate(selected[bestPosition], threshold, bestScore - parentScore, gradient - rightGradient, hessianCount - rightHessianCount);
    }

    /// <summary>A node's totals and the leaf-size limits, as the split scans use them.</summary>
    private readonly struct ScanLimits(GbdtOptions options, FixedPoint scale, long gradient, long hessianCount)
    {
        public readonly double Lambda = options.L2;
        public readonly double MinHessian = options.L2 > 0 ? options.MinHessianLeaf : Math.Max(options.MinHessianLeaf, 1e-12);
        public readonly long MinCount = options.MinSamplesLeaf;
        public readonly long Gradient = gradient;
        public readonly long Hessian = hessianCount & scale.HessianMask;
        public readonly long Count = scale.Count(hessianCount);
        public readonly double ParentNumerator = scale.Gradient(gradient) * scale.Gradient(gradient);
        public readonly double ParentDenominator = scale.Hessian(hessianCount) + options.L2;
    }

    /// <summary>The reference scan of one feature (position p): its best bin (0 = none) and that candidate's score as numerator / denominator.</summary>
    private static void ScanFeature(long[] histogram, int p, in ScanLimits limits, FixedPoint scale, out double bestNumerator, out double bestDenominator, out long bestBin)
    {
        double gradientUnit = Math.ScaleB(1.0, -scale.GradientShift), hessianUnit = Math.ScaleB(1.0, -scale.HessianShift);
        bestNumerator = limits.ParentNumerator;
        bestDenominator = limits.ParentDenominator;
        bestBin = 0;
        long rightGradient = 0, rightHessianCount = 0;
        for (int b = BinnedData.BinCount - 1; b >= 1; b--)
        {
            int slot = BinnedData.Slot(p, b);
            rightGradient += histogram[2 * slot];
            rightHessianCount += histogram[2 * slot + 1];
            long rightCount = rightHessianCount >>> scale.CountShift;
            long leftCount = limits.Count - rightCount;
            if (leftCount < limits.MinCount) break;
            long rightHessianFixed = rightHessianCount & scale.HessianMask;
            double rightG = rightGradient * gradientUnit, leftG = (limits.Gradient - rightGradient) * gradientUnit;
            double rightH = rightHessianFixed * hessianUnit, leftH = (limits.Hessian - rightHessianFixed) * hessianUnit;
            if (rightCount < limits.MinCount || rightH < limits.MinHessian || leftH < limits.MinHessian) continue;
            double leftDenominator = leftH + limits.Lambda, rightDenominator = rightH + limits.Lambda;
            double numerator = leftG * leftG * rightDenominator + rightG * rightG * leftDenominator;
            double denominator = leftDenominator * rightDenominator;
            if (numerator * bestDenominator > bestNumerator * denominator)
            {
                bestNumerator = numerator;
                bestDenominator = denominator;
                bestBin = b;
            }
        }
    }

    /// <summary>
    /// <see cref="ScanFeature"/> for the 8 features of one histogram group at once (AVX-512): the same
    /// operations lane by lane, so the same results. Bin b of the group is 16 longs, (g, hc) of each lane.
    /// </summary>
    private static void ScanGroup(long[] histogram, int group, in ScanLimits limits, FixedPoint scale,
        Span<double> numerators, Span<double> denominators, Span<long> bestBins)
    {
        var gradientUnit = Vector512.Create(Math.ScaleB(1.0, -scale.GradientShift));
        var hessianUnit = Vector512.Create(Math.ScaleB(1.0, -scale.HessianShift));
        var hessianMask = Vector512.Create(scale.HessianMask);
        var lambda = Vector512.Create(limits.Lambda);
        var minHessian = Vector512.Create(limits.MinHessian);
        var minCount = Vector512.Create(limits.MinCount);
        var totalGradient = Vector512.Create(limits.Gradient);
        var totalHessian = Vector512.Create(limits.Hessian);
        var totalCount = Vector512.Create(limits.Count);
        var even = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);
        var odd = Vector512.Create(1L, 3, 5, 7, 9, 11, 13, 15);
        var bestNumerator = Vector512.Create(limits.ParentNumerator);
        var bestDenominator = Vector512.Create(limits.ParentDenominator);
        var bestBin = Vector512<long>.Zero;
        var rightGradient = Vector512<long>.Zero;
        var rightHessianCount = Vector512<long>.Zero;
        ref long bins = ref MemoryMarshal.GetArrayDataReference(histogram);
        for (int b = BinnedData.BinCount - 1; b >= 1; b--)
        {
            ref long slot = ref Unsafe.Add(ref bins, (nint)BinnedData.Slot(group * BinnedData.Lanes, b) * 2);
            var low = Vector512.LoadUnsafe(ref slot);
            var high = Vector512.LoadUnsafe(ref slot, 8);
            rightGradient += Avx512F.PermuteVar8x64x2(low, even, high);
            rightHessianCount += Avx512F.PermuteVar8x64x2(low, odd, high);
            var rightCount = Vector512.ShiftRightLogical(rightHessianCount, scale.CountShift);
            var leftCount = totalCount - rightCount;
            if (Vector512.LessThanAll(leftCount, minCount)) break;
            var rightHessianFixed = rightHessianCount & hessianMask;
            var rightG = Vector512.ConvertToDouble(rightGradient) * gradientUnit;
            var leftG = Vector512.ConvertToDouble(totalGradient - rightGradient) * gradientUnit;
            var rightH = Vector512.ConvertToDouble(rightHessianFixed) * hessianUnit;
            var leftH = Vector512.ConvertToDouble(totalHessian - rightHessianFixed) * hessianUnit;
            var valid = Vector512.GreaterThanOrEqual(leftCount, minCount) & Vector512.GreaterThanOrEqual(rightCount, minCount)
                & (Vector512.GreaterThanOrEqual(rightH, minHessian) & Vector512.GreaterThanOrEqual(leftH, minHessian)).AsInt64();
            var leftDenominator = leftH + lambda;
            var rightDenominator = rightH + lambda;
            var numerator = leftG * leftG * rightDenominator + rightG * rightG * leftDenominator;
            var denominator = leftDenominator * rightDenominator;
            var better = Vector512.GreaterThan(numerator * bestDenominator, bestNumerator * denominator).AsInt64() & valid;
            bestNumerator = Vector512.ConditionalSelect(better.AsDouble(), numerator, bestNumerator);
            bestDenominator = Vector512.ConditionalSelect(better.AsDouble(), denominator, bestDenominator);
            bestBin = Vector512.ConditionalSelect(better, Vector512.Create((long)b), bestBin);
        }
        int start = group * BinnedData.Lanes;
        bestNumerator.CopyTo(numerators[start..]);
        bestDenominator.CopyTo(denominators[start..]);
        bestBin.CopyTo(bestBins[start..]);
    }
}
