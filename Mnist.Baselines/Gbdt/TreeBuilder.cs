using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Mnist.Core.Training;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// The quantized sums of one histogram bin, node or sample, packed in one long: from the top, the
/// gradient Σq_g (signed), the hessian Σq_h and the sample count. Each tree rounds every sample's g and
/// h once to integers, in units chosen so that Σ|q_g| over all the tree's samples stays within
/// GradientCapacity and Σq_h within HessianCapacity; no sum over any of its samples then carries into
/// the next field, so packed sums add and subtract exactly as integers: parent − child equals the
/// direct build bit for bit, in any order of addition, and a bin is 8 bytes.
/// </summary>
internal readonly record struct PackedSums(int CountBits, int HessianBits, double GradientUnit = 1, double HessianUnit = 1)
{
    /// <summary>Fewer levels than this for the largest |g| would make split gains coarse (LightGBM's quantized training uses 4 bits).</summary>
    private const long MinLevels = 8;

    /// <summary>The field widths for sums over at most <paramref name="count"/> samples (units of 1).</summary>
    public static PackedSums For(int count)
    {
        int countBits = 64 - BitOperations.LeadingZeroCount((ulong)Math.Max(count, 1)); // count < 2^countBits
        var layout = new PackedSums(countBits, 64 - countBits - (64 - countBits) / 2);
        // The worst case, every sample at the largest |g|, must still leave MinLevels per sample (after the rounding reserve of 1 each).
        if (layout.GradientCapacity / Math.Max(count, 1) - 1 < MinLevels)
            throw new IncompatibleDataException($"gbdt trains on at most 262,143 images, not {count:N0}");
        return layout;
    }

    public int GradientShift => CountBits + HessianBits;
    /// <summary>The largest |Σq_g| the gradient field holds.</summary>
    public long GradientCapacity => (1L << (63 - GradientShift)) - 1;
    /// <summary>The largest Σq_h the hessian field holds.</summary>
    public long HessianCapacity => HessianMask;
    public long CountMask => (1L << CountBits) - 1;
    public long HessianMask => (1L << HessianBits) - 1;
    public long Pack(long gradient, long hessian) => (gradient << GradientShift) + (hessian << CountBits) + 1;
    public long QuantizedGradient(long sums) => sums >> GradientShift;
    public long QuantizedHessian(long sums) => (sums >>> CountBits) & HessianMask;
    public double Gradient(long sums) => QuantizedGradient(sums) * GradientUnit;
    public double Hessian(long sums) => QuantizedHessian(sums) * HessianUnit;
    public long Count(long sums) => sums & CountMask;
}

/// <summary>The best split found for a leaf: go left when the feature's bin ≤ Threshold; the left side's <see cref="PackedSums"/>.</summary>
internal readonly record struct SplitCandidate(int Feature, byte Threshold, double Gain, long LeftSums)
{
    public static readonly SplitCandidate None = new(-1, 0, 0, 0);
    public bool IsValid => Feature >= 0;
}

/// <summary>
/// Grows one regression tree leaf-wise (best-first) on gradient/hessian histograms. One builder is
/// used by one thread at a time; it keeps its buffers (sample index list, histogram slots) between
/// trees. Results depend only on the inputs, never on which builder or thread builds the tree.
/// </summary>
/// <remarks>
/// A histogram slot is one long of <see cref="PackedSums"/> (gradient, hessian and count), so one
/// bin add is one integer add; slots are laid out by <see cref="BinnedData.Slot"/>, 8 features
/// interleaved, so the split scan handles 8 features per AVX-512 step. The quantized sums choose the
/// splits; the leaf values come from the exact float gradients of each leaf's samples. Bin 0 (pixel
/// value 0, most MNIST pixels) is never accumulated: it is the node total minus the other bins,
/// which the split scan gets for free by scanning from bin 255 downwards. A tree's histograms hold
/// only the features sampled for it (see <see cref="SelectFeatures"/>).
/// </remarks>
internal sealed class TreeBuilder
{
    private readonly BinnedData _data;
    private readonly GbdtOptions _options;
    private readonly PackedSums _layout;
    private PackedSums _scale;
    private readonly int[] _indices;
    private readonly int[] _scratch;
    // Each sample's packed quantized (gradient, hessian, count of 1) for the current tree.
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
        _layout = PackedSums.For(data.Count);
        _scale = _layout;
        _indices = new int[data.Count];
        _scratch = new int[data.Count];
        _samples = new long[data.Count];
        _rowStarts = data.RowStarts;
        _entries = data.Entries;
    }

    /// <summary>The current tree's packing and units (set by <see cref="Build"/> and <see cref="Histogram"/>).</summary>
    internal PackedSums Scale => _scale;

    private sealed class Leaf
    {
        public int Start;
        public int Count;
        public long Sums;
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
    /// <param name="seed">Seeds the dither that rounds the gradients and hessians to integers (see <see cref="Quantize"/>).</param>
    public RegressionTree Build(float[] gradients, float[] hessians, int[] selectedFeatures, float[] scores, int seed)
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

        long sums = Quantize(gradients, hessians, seed);
        for (int i = 0; i < n; i++) _indices[i] = i;
        Times.Setup += Stopwatch.GetTimestamp() - selectStart;
        var root = new Leaf { Start = 0, Count = n, Sums = sums };
        if (n > 0)
        {
            root.Slot = Rent();
            long start = Stopwatch.GetTimestamp();
            BuildHistogram(_slots[root.Slot], _indices.AsSpan(0, n));
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
            // The leaf's value from its samples' exact gradients and hessians, not the quantized sums.
            var leaf = _leaves[l];
            double gradient = 0, hessian = 0;
            foreach (int i in _indices.AsSpan(leaf.Start, leaf.Count))
            {
                gradient += gradients[i];
                hessian += hessians[i];
            }
            double denominator = hessian + lambda;
            float value = denominator > 0 ? (float)(-rate * gradient / denominator) : 0f;
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

    /// <summary>
    /// Rounds each sample's gradient and hessian to integers and packs them with a count of 1; returns the
    /// packed total. The units are as fine as the fields allow for this tree: Σ|g|·scale plus one unit of
    /// rounding per sample fills <see cref="PackedSums.GradientCapacity"/> (likewise Σh), so late rounds,
    /// whose gradients are mostly small, get many more levels than the worst case. The rounding is
    /// stochastic (up with probability equal to the fraction, so node sums carry no rounding bias), its
    /// dither drawn from <paramref name="seed"/> and the sample's index alone: any thread count gives the same tree.
    /// </summary>
    private long Quantize(float[] gradients, float[] hessians, int seed)
    {
        int n = _data.Count;
        double absoluteGradients = 0, sumHessians = 0;
        for (int i = 0; i < n; i++)
        {
            float g = gradients[i], h = hessians[i];
            if (!(Math.Abs(g) <= 1f) || !(h >= 0f && h <= 1f))
                throw new ArgumentOutOfRangeException(nameof(gradients), $"sample {i}: gradient {g} or hessian {h} is outside |g| ≤ 1, 0 ≤ h ≤ 1");
            absoluteGradients += Math.Abs(g);
            sumHessians += h;
        }
        // Rounding adds less than one unit per sample, hence the reserve of n; the float sums' own rounding is far below one unit.
        double gradientScale = absoluteGradients > 0 ? (_layout.GradientCapacity - n) / (absoluteGradients * (1 + 1e-9)) : 0;
        double hessianScale = sumHessians > 0 ? (_layout.HessianCapacity - n) / (sumHessians * (1 + 1e-9)) : 0;
        _scale = _layout with
        {
            GradientUnit = gradientScale > 0 ? 1 / gradientScale : 0,
            HessianUnit = hessianScale > 0 ? 1 / hessianScale : 0,
        };
        const double Unit32 = 1.0 / (1L << 32);
        ulong stream = (ulong)(uint)seed << 32;
        long total = 0;
        for (int i = 0; i < n; i++)
        {
            ulong dither = Seeds.Mix(stream + (ulong)i);
            // floor(x + u), u uniform in [0, 1): x rounded up with probability frac(x).
            long g = (long)Math.Floor(gradients[i] * gradientScale + (uint)dither * Unit32);
            long h = (long)Math.Floor(hessians[i] * hessianScale + (dither >> 32) * Unit32);
            _samples[i] = _layout.Pack(g, h);
            total += _samples[i];
        }
        return total;
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
        if (leftCount != _scale.Count(split.LeftSums))
            throw new InvalidOperationException($"Partition put {leftCount} samples left where the histogram counted {_scale.Count(split.LeftSums)}.");
        var left = new Leaf
        {
            Start = leaf.Start, Count = leftCount, Sums = split.LeftSums,
            ParentNode = node, IsLeft = true,
        };
        var right = new Leaf
        {
            Start = leaf.Start + leftCount, Count = leaf.Count - leftCount,
            Sums = leaf.Sums - split.LeftSums,
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
        int length = BinnedData.SlotCount(selected.Length);
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
        FilterEntries(_data.RowStarts, _data.Entries, _slotMap, _filteredRowStarts, _filteredEntries);
        _rowStarts = _filteredRowStarts;
        _entries = _filteredEntries;
    }

    /// <summary>
    /// Maps every entry through <paramref name="map"/> (a data slot's slot in the tree's histogram, −1 for a
    /// feature not selected) and keeps the mapped slots ≥ 0, row by row, in order; row r's kept entries
    /// start at <paramref name="starts"/>[r]. The fast path maps 16 entries per step (two 8-lane gathers,
    /// one compress); <paramref name="reference"/> is its scalar twin.
    /// </summary>
    internal static unsafe void FilterEntries(int[] sourceStarts, int[] source, int[] map, int[] starts, int[] target, bool reference = false)
    {
        int rows = sourceStarts.Length - 1, next = 0;
        bool vector = !reference && Avx512F.IsSupported && Avx2.IsSupported;
        fixed (int* from = source, slots = map, to = target)
        {
            for (int r = 0; r < rows; r++)
            {
                starts[r] = next;
                int e = sourceStarts[r], end = sourceStarts[r + 1];
                // next ≤ e always, so the full 16-lane store at next stays inside the row's own source range.
                if (vector)
                    for (; e + 16 <= end; e += 16)
                    {
                        var entries = Vector512.Load(from + e);
                        var mapped = Vector512.Create(Avx2.GatherVector256(slots, entries.GetLower(), 4), Avx2.GatherVector256(slots, entries.GetUpper(), 4));
                        var keep = Vector512.GreaterThanOrEqual(mapped, Vector512<int>.Zero);
                        Avx512F.Compress(Vector512<int>.Zero, keep, mapped).Store(to + next);
                        next += BitOperations.PopCount(keep.ExtractMostSignificantBits());
                    }
                for (; e < end; e++)
                {
                    int slot = slots[from[e]];
                    to[next] = slot;
                    next += slot >= 0 ? 1 : 0;
                }
            }
        }
        starts[rows] = next;
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
    /// How many rows ahead <see cref="BuildHistogram"/> prefetches a row's entries. A node's rows are
    /// scattered over the entries (tens of MB, not in cache) and each is only ≈ 10 cache lines, too
    /// short for the hardware prefetcher: without it a small child's histogram waits on memory
    /// (measured 2.7 ns per entry for a random eighth of MNIST, 1.3 with 3 rows ahead).
    /// </summary>
    private const int PrefetchRows = 3;

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
            for (int k = 0; k < indices.Length; k++)
            {
                if (k + PrefetchRows < indices.Length) PrefetchRow(ref entries, ref samples, rowStarts, indices[k + PrefetchRows]);
                int i = indices[k];
                long add = Unsafe.Add(ref samples, i);
                int end = rowStarts[i + 1];
                for (int e = rowStarts[i]; e < end; e++) Unsafe.Add(ref bins, Unsafe.Add(ref entries, e)) += add;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRow(ref int entries, ref long samples, ReadOnlySpan<int> rowStarts, int row)
    {
        if (!Sse.IsSupported) return;
        int start = rowStarts[row], end = rowStarts[row + 1];
        if (end <= start) return;
        // A prefetch is only a hint: a stale address (had the GC moved the arrays) cannot fault.
        for (int e = start; e < end; e += 16) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref entries, e)));
        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref entries, end - 1)));
        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref samples, row)));
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
                if (bin != 0) histogram[BinnedData.Slot(p, bin)] += _samples[i];
            }
        }
    }

    /// <summary>
    /// For tests and the benchmark: quantizes the gradients and hessians (dither seed 0), then returns the
    /// histogram of the samples at <paramref name="indices"/> over <paramref name="selected"/> features
    /// (by the fast kernel, or its <paramref name="reference"/> twin) with the samples' packed total.
    /// </summary>
    internal (long[] Histogram, long Sums) Histogram(ReadOnlySpan<int> indices, float[] gradients, float[] hessians, int[] selected, bool reference = false)
    {
        SelectFeatures(selected);
        Quantize(gradients, hessians, seed: 0);
        var histogram = new long[_histogramLength];
        if (reference) BuildHistogramReference(histogram, indices);
        else BuildHistogram(histogram, indices);
        long sums = 0;
        foreach (int i in indices) sums += _samples[i];
        return (histogram, sums);
    }

    /// <summary>larger −= smaller (histogram subtraction, exact).</summary>
    internal static void Subtract(long[] larger, long[] smaller) => TensorPrimitives.Subtract(larger, smaller, larger);

    /// <summary>Finds the leaf's best split; releases its histogram when it cannot be split.</summary>
    private void FindSplit(Leaf leaf)
    {
        long start = Stopwatch.GetTimestamp();
        leaf.Split = SplitCandidate.None;
        if (leaf.Count >= 2 * _options.MinSamplesLeaf && leaf.Slot >= 0)
            leaf.Split = FindBestSplit(_slots[leaf.Slot], _selected, leaf.Sums, _options, _scale);
        if (!leaf.Split.IsValid) Release(leaf);
        Times.SplitSearch += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>
    /// The split maximising G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) under the leaf-size limits, on the
    /// quantized sums. Each feature's bins (histogram position p holds feature selected[p]) are scanned
    /// from 255 down: the right side grows, the left side is the total minus it, so bin 0 is never read.
    /// Within a feature a candidate must beat the best so far strictly (so ties keep the highest bin),
    /// compared as numerator·bestDenominator &gt; bestNumerator·denominator without dividing; across
    /// features the scores are compared and ties keep the first feature. The threshold is placed midway
    /// between the left side's largest bin and the right side's smallest, as the values in between were
    /// not seen in the node. <paramref name="reference"/> scans feature by feature in scalar code (the
    /// slow twin of the AVX-512 scan, which also runs where AVX-512 is missing).
    /// </summary>
    internal static SplitCandidate FindBestSplit(long[] histogram, int[] selected, long sums, GbdtOptions options, PackedSums scale, bool reference = false)
    {
        int lanes = (selected.Length + BinnedData.Lanes - 1) / BinnedData.Lanes * BinnedData.Lanes;
        Span<double> numerators = lanes <= 1024 ? stackalloc double[lanes] : new double[lanes];
        Span<double> denominators = lanes <= 1024 ? stackalloc double[lanes] : new double[lanes];
        Span<long> bestBins = lanes <= 1024 ? stackalloc long[lanes] : new long[lanes];
        var limits = new ScanLimits(options, scale, sums);
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
        long right = 0;
        for (int b = BinnedData.BinCount - 1; b >= bestBin; b--) right += histogram[BinnedData.Slot(bestPosition, b)];
        int leftMax = 0;
        for (int b = bestBin - 1; b >= 1; b--)
            if (scale.Count(histogram[BinnedData.Slot(bestPosition, b)]) != 0) { leftMax = b; break; }
        byte threshold = (byte)((leftMax + bestBin - 1) / 2);
        return new SplitCandidate(selected[bestPosition], threshold, bestScore - parentScore, sums - right);
    }

    /// <summary>A node's quantized totals and the leaf-size limits, as the split scans use them.</summary>
    private readonly struct ScanLimits(GbdtOptions options, PackedSums scale, long sums)
    {
        public readonly double Lambda = options.L2;
        public readonly double MinHessian = options.L2 > 0 ? options.MinHessianLeaf : Math.Max(options.MinHessianLeaf, 1e-12);
        public readonly long MinCount = options.MinSamplesLeaf;
        public readonly long Gradient = scale.QuantizedGradient(sums);
        public readonly long Hessian = scale.QuantizedHessian(sums);
        public readonly long Count = scale.Count(sums);
        public readonly double ParentNumerator = scale.Gradient(sums) * scale.Gradient(sums);
        public readonly double ParentDenominator = scale.Hessian(sums) + options.L2;
    }

    /// <summary>The reference scan of one feature (position p): its best bin (0 = none) and that candidate's score as numerator / denominator.</summary>
    private static void ScanFeature(long[] histogram, int p, in ScanLimits limits, PackedSums scale, out double bestNumerator, out double bestDenominator, out long bestBin)
    {
        bestNumerator = limits.ParentNumerator;
        bestDenominator = limits.ParentDenominator;
        bestBin = 0;
        long right = 0;
        for (int b = BinnedData.BinCount - 1; b >= 1; b--)
        {
            right += histogram[BinnedData.Slot(p, b)];
            long rightCount = scale.Count(right);
            long leftCount = limits.Count - rightCount;
            if (leftCount < limits.MinCount) break;
            long rightGradient = scale.QuantizedGradient(right), rightHessian = scale.QuantizedHessian(right);
            double rightG = rightGradient * scale.GradientUnit, leftG = (limits.Gradient - rightGradient) * scale.GradientUnit;
            double rightH = rightHessian * scale.HessianUnit, leftH = (limits.Hessian - rightHessian) * scale.HessianUnit;
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
    /// operations lane by lane, so the same results. Bin b of the group is 8 longs, one per lane.
    /// </summary>
    private static void ScanGroup(long[] histogram, int group, in ScanLimits limits, PackedSums scale,
        Span<double> numerators, Span<double> denominators, Span<long> bestBins)
    {
        var gradientUnit = Vector512.Create(scale.GradientUnit);
        var hessianUnit = Vector512.Create(scale.HessianUnit);
        var hessianMask = Vector512.Create(scale.HessianMask);
        var countMask = Vector512.Create(scale.CountMask);
        int countBits = scale.CountBits, gradientShift = scale.GradientShift;
        var lambda = Vector512.Create(limits.Lambda);
        var minHessian = Vector512.Create(limits.MinHessian);
        var minCount = Vector512.Create(limits.MinCount);
        var totalGradient = Vector512.Create(limits.Gradient);
        var totalHessian = Vector512.Create(limits.Hessian);
        var totalCount = Vector512.Create(limits.Count);
        var bestNumerator = Vector512.Create(limits.ParentNumerator);
        var bestDenominator = Vector512.Create(limits.ParentDenominator);
        var bestBin = Vector512<long>.Zero;
        var right = Vector512<long>.Zero;
        ref long bins = ref MemoryMarshal.GetArrayDataReference(histogram);
        for (int b = BinnedData.BinCount - 1; b >= 1; b--)
        {
            var bin = Vector512.LoadUnsafe(ref bins, (nuint)BinnedData.Slot(group * BinnedData.Lanes, b));
            // An empty bin leaves every lane's sums, so its candidate, as they were: it cannot beat itself.
            if (bin == Vector512<long>.Zero) continue;
            right += bin;
            var rightCount = right & countMask;
            var leftCount = totalCount - rightCount;
            if (Vector512.LessThanAll(leftCount, minCount)) break;
            var rightGradient = Vector512.ShiftRightArithmetic(right, gradientShift);
            var rightHessian = Vector512.ShiftRightLogical(right, countBits) & hessianMask;
            var rightG = Vector512.ConvertToDouble(rightGradient) * gradientUnit;
            var leftG = Vector512.ConvertToDouble(totalGradient - rightGradient) * gradientUnit;
            var rightH = Vector512.ConvertToDouble(rightHessian) * hessianUnit;
            var leftH = Vector512.ConvertToDouble(totalHessian - rightHessian) * hessianUnit;
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
