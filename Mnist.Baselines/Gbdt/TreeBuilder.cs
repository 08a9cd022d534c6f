using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mnist.Baselines.Gbdt;

/// <summary>The best split found for a leaf: go left when the feature's bin ≤ Threshold.</summary>
internal readonly record struct SplitCandidate(int Feature, byte Threshold, double Gain, double LeftGradient, double LeftHessian, int LeftCount)
{
    public static readonly SplitCandidate None = new(-1, 0, 0, 0, 0, 0);
    public bool IsValid => Feature >= 0;
}

/// <summary>
/// Grows one regression tree leaf-wise (best-first) on gradient/hessian histograms. One builder is
/// used by one thread at a time; it keeps its buffers (sample index list, histogram slots) between
/// trees. Results depend only on the inputs, never on which builder or thread builds the tree.
/// </summary>
/// <remarks>
/// A histogram holds, for every used feature and bin 1..255, the sums of gradients and hessians and
/// the sample count (4 doubles per bin, the 4th unused, so one bin is one 32-byte vector add);
/// features are <see cref="BinnedData.BinStride"/> bins apart. Bin 0
/// (pixel value 0, most MNIST pixels) is never accumulated: it is the node total minus the other
/// bins, which the split scan gets for free by scanning from bin 255 downwards. A tree's histograms
/// hold only the features sampled for it (see <see cref="SelectFeatures"/>).
/// </remarks>
internal sealed class TreeBuilder
{
    internal const int Stride = 4;
    private const int FeatureStride = BinnedData.BinStride * Stride;

    private readonly BinnedData _data;
    private readonly GbdtOptions _options;
    private readonly int[] _indices;
    private readonly int[] _scratch;
    private readonly List<double[]> _slots = [];
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
    private readonly int[] _position;
    private int _histogramLength;

    /// <param name="data">The binned training set.</param>
    /// <param name="options">Growth limits, regularisation and learning rate.</param>
    /// <param name="subtractHistograms">False builds both children's histograms directly (for tests).</param>
    public TreeBuilder(BinnedData data, GbdtOptions options, bool subtractHistograms = true)
    {
        _data = data;
        _options = options;
        _subtractHistograms = subtractHistograms;
        _indices = new int[data.Count];
        _scratch = new int[data.Count];
        _rowStarts = data.RowStarts;
        _entries = data.Entries;
        _position = new int[data.FeatureCount];
    }

    private sealed class Leaf
    {
        public int Start;
        public int Count;
        public double Gradient;
        public double Hessian;
        public int Slot = -1;
        public SplitCandidate Split = SplitCandidate.None;
        public int ParentNode = -1;
        public bool IsLeft;
    }

    /// <summary>
    /// Grows a tree on the gradients and hessians of all training samples, splitting only on
    /// <paramref name="selectedFeatures"/> (used-feature indices, ascending), and adds each sample's
    /// leaf value to <paramref name="scores"/>.
    /// </summary>
    public RegressionTree Build(float[] gradients, float[] hessians, int[] selectedFeatures, float[] scores)
    {
        int n = _data.Count;
        SelectFeatures(selectedFeatures);
        _leaves.Clear();
        _nodeFeature.Clear();
        _nodeThreshold.Clear();
        _nodeLeft.Clear();
        _nodeRight.Clear();
        _free.Clear();
        for (int s = _slots.Count - 1; s >= 0; s--) _free.Push(s);

        double gradient = 0, hessian = 0;
        for (int i = 0; i < n; i++)
        {
            _indices[i] = i;
            gradient += gradients[i];
            hessian += hessians[i];
        }
        var root = new Leaf { Start = 0, Count = n, Gradient = gradient, Hessian = hessian };
        if (n > 0)
        {
            root.Slot = Rent();
            BuildHistogram(_slots[root.Slot], _indices.AsSpan(0, n), gradients, hessians);
            FindSplit(root);
        }
        _leaves.Add(root);

        while (_leaves.Count < _options.MaxLeaves)
        {
            int best = -1;
            for (int l = 0; l < _leaves.Count; l++)
                if (_leaves[l].Split.IsValid && (best < 0 || _leaves[l].Split.Gain > _leaves[best].Split.Gain)) best = l;
            if (best < 0) break;
            SplitLeaf(best, gradients, hessians);
        }

        var leafValues = new float[_leaves.Count];
        var left = _nodeLeft.ToArray();
        var right = _nodeRight.ToArray();
        double rate = _options.LearningRate, lambda = _options.L2;
        for (int l = 0; l < _leaves.Count; l++)
        {
            var leaf = _leaves[l];
            double denominator = leaf.Hessian + lambda;
            float value = denominator > 0 ? (float)(-rate * leaf.Gradient / denominator) : 0f;
            leafValues[l] = value;
            if (leaf.ParentNode >= 0)
            {
                if (leaf.IsLeft) left[leaf.ParentNode] = ~l;
                else right[leaf.ParentNode] = ~l;
            }
            foreach (int i in _indices.AsSpan(leaf.Start, leaf.Count)) scores[i] += value;
        }
        var features = _nodeFeature.Select(u => _data.Features[u]).ToArray();
        return new RegressionTree(features, _nodeThreshold.ToArray(), left, right, leafValues);
    }

    private void SplitLeaf(int leafIndex, float[] gradients, float[] hessians)
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

        int leftCount = Partition(leaf.Start, leaf.Count, _data.Column(split.Feature), split.Threshold);
        if (leftCount != split.LeftCount)
            throw new InvalidOperationException($"Partition put {leftCount} samples left where the histogram counted {split.LeftCount}.");
        var left = new Leaf
        {
            Start = leaf.Start, Count = leftCount, Gradient = split.LeftGradient, Hessian = split.LeftHessian,
            ParentNode = node, IsLeft = true,
        };
        var right = new Leaf
        {
            Start = leaf.Start + leftCount, Count = leaf.Count - leftCount,
            Gradient = leaf.Gradient - split.LeftGradient, Hessian = leaf.Hessian - split.LeftHessian,
            ParentNode = node, IsLeft = false,
        };
        var (smaller, larger) = left.Count <= right.Count ? (left, right) : (right, left);
        smaller.Slot = Rent();
        BuildHistogram(_slots[smaller.Slot], _indices.AsSpan(smaller.Start, smaller.Count), gradients, hessians);
        if (_subtractHistograms)
        {
            larger.Slot = leaf.Slot;
            Subtract(_slots[larger.Slot], _slots[smaller.Slot]);
        }
        else
        {
            Release(leaf);
            larger.Slot = Rent();
            BuildHistogram(_slots[larger.Slot], _indices.AsSpan(larger.Start, larger.Count), gradients, hessians);
        }
        leaf.Slot = -1;
        FindSplit(left);
        FindSplit(right);
        _leaves[leafIndex] = left;
        _leaves.Add(right);
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
        int length = selected.Length * FeatureStride;
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
        _position.AsSpan().Fill(-1);
        for (int p = 0; p < selected.Length; p++) _position[selected[p]] = p;
        _filteredRowStarts ??= new int[_data.Count + 1];
        _filteredEntries ??= new int[_data.Entries.Length];
        int[] sourceStarts = _data.RowStarts, source = _data.Entries, starts = _filteredRowStarts, target = _filteredEntries;
        int[] position = _position;
        int next = 0;
        for (int i = 0; i < _data.Count; i++)
        {
            starts[i] = next;
            int end = sourceStarts[i + 1];
            for (int e = sourceStarts[i]; e < end; e++)
            {
                int entry = source[e];
                int feature = entry / BinnedData.BinStride;
                int p = position[feature];
                target[next] = entry + (p - feature) * BinnedData.BinStride;
                next += p >= 0 ? 1 : 0;
            }
        }
        starts[_data.Count] = next;
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
        _slots.Add(new double[_histogramLength]);
        return _slots.Count - 1;
    }

    private void Release(Leaf leaf)
    {
        if (leaf.Slot >= 0) _free.Push(leaf.Slot);
        leaf.Slot = -1;
    }

    /// <summary>Builds the selected features' histograms of the samples at <paramref name="indices"/> directly.</summary>
    internal void BuildHistogram(double[] histogram, ReadOnlySpan<int> indices, float[] gradients, float[] hessians)
    {
        histogram.AsSpan(0, _histogramLength).Clear();
        ref double bins = ref MemoryMarshal.GetArrayDataReference(histogram);
        ref int entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        int[] rowStarts = _rowStarts;
        foreach (int i in indices)
        {
            var add = Vector256.Create(gradients[i], hessians[i], 1.0, 0.0);
            int end = rowStarts[i + 1];
            for (int e = rowStarts[i]; e < end; e++)
            {
                ref double bin = ref Unsafe.Add(ref bins, (nint)Unsafe.Add(ref entries, e) * Stride);
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref bin) + add, ref bin);
            }
        }
    }

    /// <summary>A new histogram of the samples at <paramref name="indices"/> over <paramref name="selected"/> features (for tests).</summary>
    internal double[] Histogram(ReadOnlySpan<int> indices, float[] gradients, float[] hessians, int[] selected)
    {
        SelectFeatures(selected);
        var histogram = new double[_histogramLength];
        BuildHistogram(histogram, indices, gradients, hessians);
        return histogram;
    }

    /// <summary>larger −= smaller (histogram subtraction).</summary>
    internal static void Subtract(double[] larger, double[] smaller) => TensorPrimitives.Subtract(larger, smaller, larger);

    /// <summary>Finds the leaf's best split; releases its histogram when it cannot be split.</summary>
    private void FindSplit(Leaf leaf)
    {
        leaf.Split = SplitCandidate.None;
        int minLeaf = _options.MinSamplesLeaf;
        if (leaf.Count >= 2 * minLeaf && leaf.Slot >= 0)
            leaf.Split = FindBestSplit(_slots[leaf.Slot], _selected, leaf.Gradient, leaf.Hessian, leaf.Count, _options);
        if (!leaf.Split.IsValid) Release(leaf);
    }

    /// <summary>
    /// Scans each feature's bins (histogram position p holds feature selected[p]) from 255 down (the right side grows, the left side is the
    /// total minus it, so bin 0 is never read) for the split maximising
    /// G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) under the leaf-size limits. Ties keep the first
    /// feature and the highest bin. The threshold is placed midway between the left side's largest
    /// bin and the right side's smallest, as the values in between were not seen in the node.
    /// </summary>
    internal static SplitCandidate FindBestSplit(double[] histogram, int[] selected, double gradient, double hessian, int count, GbdtOptions options)
    {
        double lambda = options.L2;
        double minHessian = lambda > 0 ? options.MinHessianLeaf : Math.Max(options.MinHessianLeaf, 1e-12);
        double minLeaf = options.MinSamplesLeaf;
        double parentScore = gradient * gradient / (hessian + lambda);
        double bestScore = parentScore;
        int bestPosition = -1, bestBin = 0;
        double bestLeftGradient = 0, bestLeftHessian = 0, bestLeftCount = 0;
        for (int p = 0; p < selected.Length; p++)
        {
            var bins = histogram.AsSpan(p * FeatureStride, FeatureStride);
            double rightGradient = 0, rightHessian = 0, rightCount = 0;
            for (int b = BinnedData.BinCount - 1; b >= 1; b--)
            {
                double c = bins[b * Stride + 2];
                if (c == 0) continue;
                rightGradient += bins[b * Stride];
                rightHessian += bins[b * Stride + 1];
                rightCount += c;
                double leftCount = count - rightCount;
                if (leftCount < minLeaf) break;
                if (rightCount < minLeaf) continue;
                double leftHessian = hessian - rightHessian;
                if (rightHessian < minHessian || leftHessian < minHessian) continue;
                double leftGradient = gradient - rightGradient;
                // score = G_L²/(H_L+λ) + G_R²/(H_R+λ) = numerator / denominator; both denominators are
                // positive, so compare without dividing and divide only on an improvement.
                double leftDenominator = leftHessian + lambda, rightDenominator = rightHessian + lambda;
                double numerator = leftGradient * leftGradient * rightDenominator + rightGradient * rightGradient * leftDenominator;
                double denominator = leftDenominator * rightDenominator;
                if (numerator > bestScore * denominator)
                {
                    bestScore = numerator / denominator;
                    bestPosition = p;
                    bestBin = b;
                    bestLeftGradient = leftGradient;
                    bestLeftHessian = leftHessian;
                    bestLeftCount = leftCount;
                }
            }
        }
        if (bestPosition < 0) return SplitCandidate.None;

        // The left side's largest occupied bin (bin 0 when no other bin below bestBin is occupied).
        var featureBins = histogram.AsSpan(bestPosition * FeatureStride, FeatureStride);
        int leftMax = 0;
        for (int b = bestBin - 1; b >= 1; b--)
            if (featureBins[b * Stride + 2] != 0) { leftMax = b; break; }
        byte threshold = (byte)((leftMax + bestBin - 1) / 2);
        return new SplitCandidate(selected[bestPosition], threshold, bestScore - parentScore, bestLeftGradient, bestLeftHessian, (int)bestLeftCount);
    }
}
