using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Mnist.Core.Data;

namespace Mnist.Baselines.LinearSvm;

/// <summary>
/// The non-zero pixels of each image (MNIST is about 81 % zeros): compressed rows, pixel indices and values.
/// </summary>
internal sealed class SparseImages
{
    public SparseImages(DigitDataView data)
    {
        int n = data.Count, d = data.PixelCount;
        RowStarts = new int[n + 1];
        long nonZero = 0;
        for (int i = 0; i < n; i++)
            foreach (float v in data.GetImage(i)) nonZero += v != 0 ? 1 : 0;
        Pixels = new int[checked((int)nonZero)];
        Values = new float[nonZero];
        int next = 0;
        for (int i = 0; i < n; i++)
        {
            RowStarts[i] = next;
            var image = data.GetImage(i);
            for (int j = 0; j < d; j++)
                if (image[j] != 0)
                {
                    Pixels[next] = j;
                    Values[next++] = image[j];
                }
        }
        RowStarts[n] = next;
        Count = n;
        PixelCount = d;
    }

    public int Count { get; }
    public int PixelCount { get; }
    public int[] RowStarts { get; }
    public int[] Pixels { get; }
    public float[] Values { get; }

    public ReadOnlySpan<int> PixelsOf(int i) => Pixels.AsSpan(RowStarts[i], RowStarts[i + 1] - RowStarts[i]);
    public ReadOnlySpan<float> ValuesOf(int i) => Values.AsSpan(RowStarts[i], RowStarts[i + 1] - RowStarts[i]);

    /// <summary>‖xᵢ‖² of every image, in double.</summary>
    public double[] SquaredNorms()
    {
        var norms = new double[Count];
        for (int i = 0; i < Count; i++)
            foreach (float v in ValuesOf(i)) norms[i] += (double)v * v;
        return norms;
    }
}

/// <summary>
/// Crammer–Singer multiclass linear SVM solved in the dual by sequential sub-problem optimisation —
/// LIBLINEAR's <c>Solver_MCSVM_CS</c> (Keerthi et al., KDD 2008), without shrinking:
/// <code>
/// min_W ½ Σ_m ‖w_m‖² + C Σᵢ max_m (1 − δ(yᵢ, m) + w_mᵀxᵢ − w_{yᵢ}ᵀxᵢ)
/// </code>
/// with the bias as an extra constant feature (regularised, as in LIBLINEAR). Each epoch visits the
/// images in a seeded random order; for each image the 10 dual variables αᵢ (Σ_m αᵢᵐ = 0,
/// αᵢᵐ ≤ 0 for m ≠ yᵢ, αᵢ^{yᵢ} ≤ C) are optimised exactly in closed form, then w_m += Δαᵢᵐ xᵢ.
/// The weights are stored pixel-major, the 10 classes of a pixel in one 16-float vector, so an
/// image's 10 scores and its update are one vector multiply-add per non-zero pixel
/// (<see cref="Scores"/>, <see cref="Update"/>; their scalar twins check them in the tests).
/// Single-threaded and deterministic.
/// </summary>
internal sealed class CrammerSingerSolver
{
    private const int Classes = DigitDataView.ClassCount;
    /// <summary>Floats per pixel in the weights: the 10 classes padded to one Vector512.</summary>
    internal const int Lanes = 16;
    public const float BiasFeature = 1f;

    private readonly SparseImages _data;
    private readonly byte[] _labels;
    private readonly double[] _squaredNorms; // ‖xᵢ‖² + B²
    private readonly int _n;
    private readonly int _d;
    private readonly double _c;
    private readonly double _epsilon;
    private readonly Random _random;
    private readonly double[] _alpha;        // n × 10
    private readonly int[] _order;

    public CrammerSingerSolver(SparseImages data, byte[] labels, double[] squaredNorms, double c, double epsilon, int seed)
    {
        _data = data;
        _labels = labels;
        _squaredNorms = squaredNorms;
        _n = data.Count;
        _d = data.PixelCount;
        _c = c;
        _epsilon = epsilon;
        _random = new Random(seed);
        _alpha = new double[_n * Classes];
        _order = new int[_n];
        for (int i = 0; i < _n; i++) _order[i] = i;
        Weights = new float[_d * Lanes];
        BiasWeights = new double[Classes];
    }

    /// <summary>w_m[j] at <c>Weights[j × 16 + m]</c> (without the bias term); lanes 10..15 stay 0.</summary>
    public float[] Weights { get; }

    /// <summary>The coefficients of the constant feature B per class.</summary>
    public double[] BiasWeights { get; }

    public int Count => _n;
    public bool Converged { get; private set; }
    public int Epochs { get; private set; }

    /// <summary>Mean multiclass hinge loss of the images as each was visited in the last epoch (before its update).</summary>
    public double RunningLoss { get; private set; }

    /// <summary>Training accuracy of the images as each was visited in the last epoch (before its update).</summary>
    public double RunningAccuracy { get; private set; }

    /// <summary>The largest violation (max_m G − min_m G over the free variables) seen in the last epoch.</summary>
    public double LastViolation { get; private set; }

    /// <summary>The 16 lanes Σⱼ xⱼ·W[j] over the image's non-zero pixels (lane m = class m's score without bias).</summary>
    internal static Vector512<float> Scores(float[] weights, ReadOnlySpan<int> pixels, ReadOnlySpan<float> values)
    {
        ref float w = ref MemoryMarshal.GetArrayDataReference(weights);
        var sum = Vector512<float>.Zero;
        for (int k = 0; k < pixels.Length; k++)
            sum += Vector512.LoadUnsafe(ref w, (nuint)pixels[k] * Lanes) * values[k];
        return sum;
    }

    /// <summary>The slow twin of <see cref="Scores"/>: class by class, pixel by pixel, the same sums in the same order.</summary>
    internal static float[] ScoresReference(float[] weights, ReadOnlySpan<int> pixels, ReadOnlySpan<float> values)
    {
        var scores = new float[Lanes];
        for (int m = 0; m < Lanes; m++)
            for (int k = 0; k < pixels.Length; k++)
                scores[m] += weights[pixels[k] * Lanes + m] * values[k];
        return scores;
    }

    /// <summary>W[j] += xⱼ·Δ for the image's non-zero pixels (lane m of Δ = class m's change of α).</summary>
    internal static void Update(float[] weights, ReadOnlySpan<int> pixels, ReadOnlySpan<float> values, Vector512<float> delta)
    {
        ref float w = ref MemoryMarshal.GetArrayDataReference(weights);
        for (int k = 0; k < pixels.Length; k++)
        {
            ref float row = ref Unsafe.Add(ref w, (nuint)pixels[k] * Lanes);
            (Vector512.LoadUnsafe(ref row) + delta * values[k]).StoreUnsafe(ref row);
        }
    }

    /// <summary>The slow twin of <see cref="Update"/>.</summary>
    internal static void UpdateReference(float[] weights, ReadOnlySpan<int> pixels, ReadOnlySpan<float> values, float[] delta)
    {
        for (int k = 0; k < pixels.Length; k++)
            for (int m = 0; m < Lanes; m++)
                weights[pixels[k] * Lanes + m] += delta[m] * values[k];
    }

    public void RunEpoch()
    {
        if (Converged) return;
        _random.Shuffle(_order);
        Span<double> g = stackalloc double[Classes];
        Span<double> b = stackalloc double[Classes];
        Span<double> sorted = stackalloc double[Classes];
        Span<double> alphaNew = stackalloc double[Classes];
        Span<float> deltas = stackalloc float[Lanes];
        double stopping = double.NegativeInfinity;
        double hinge = 0;
        int correct = 0;

        foreach (int i in _order)
        {
            double a = _squaredNorms[i];  // ≥ B² > 0
            var pixels = _data.PixelsOf(i);
            var values = _data.ValuesOf(i);
            int yi = _labels[i];
            Span<double> alpha = _alpha.AsSpan(i * Classes, Classes);
            var scores = Scores(Weights, pixels, values);

            double minG = double.PositiveInfinity, maxG = double.NegativeInfinity;
            bool best = true;
            for (int m = 0; m < Classes; m++)
            {
                double score = scores[m] + BiasWeights[m] * BiasFeature;
                g[m] = (m == yi ? 0 : 1) + score;
                if (alpha[m] < 0 && g[m] < minG) minG = g[m];
                if (g[m] > maxG) maxG = g[m];
            }
            // G_m − G_y = 1 + s_m − s_y for m ≠ y: the hinge is max(0, max_m G_m − G_y); correct when every s_m < s_y.
            hinge += maxG - g[yi];
            for (int m = 0; m < Classes && best; m++)
                if (m != yi && g[m] - 1 >= g[yi]) best = false;
            if (best) correct++;
            if (alpha[yi] < _c && g[yi] < minG) minG = g[yi];
            if (maxG - minG <= 1e-12) continue;
            stopping = Math.Max(stopping, maxG - minG);

            // Closed-form sub-problem (LIBLINEAR's solve_sub_problem).
            for (int m = 0; m < Classes; m++)
            {
                b[m] = g[m] - a * alpha[m];
                sorted[m] = b[m];
            }
            sorted[yi] += a * _c;
            sorted.Sort();
            sorted.Reverse();
            double beta = sorted[0] - a * _c;
            int r = 1;
            for (; r < Classes && beta < r * sorted[r]; r++) beta += sorted[r];
            beta /= r;
            for (int m = 0; m < Classes; m++)
                alphaNew[m] = m == yi ? Math.Min(_c, (beta - b[m]) / a) : Math.Min(0.0, (beta - b[m]) / a);

            bool changed = false;
            for (int m = 0; m < Classes; m++)
            {
                double delta = alphaNew[m] - alpha[m];
                alpha[m] = alphaNew[m];
                deltas[m] = 0;
                if (Math.Abs(delta) > 1e-12)
                {
                    deltas[m] = (float)delta;
                    BiasWeights[m] += delta * BiasFeature;
                    changed = true;
                }
            }
            if (changed) Update(Weights, pixels, values, Vector512.Create<float>(deltas));
        }
        Epochs++;
        RunningLoss = hinge / _n;
        RunningAccuracy = (double)correct / _n;
        LastViolation = stopping;
        if (stopping < _epsilon) Converged = true;
    }
}
