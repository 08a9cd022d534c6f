using System.Numerics.Tensors;
using Mnist.Core.Data;

namespace Mnist.Baselines.LinearSvm;

/// <summary>
/// Crammer–Singer multiclass linear SVM solved in the dual by sequential sub-problem optimisation —
/// LIBLINEAR's <c>Solver_MCSVM_CS</c> (Keerthi et al., KDD 2008), without shrinking:
/// <code>
/// min_W ½ Σ_m ‖w_m‖² + C Σᵢ max_m (1 − δ(yᵢ, m) + w_mᵀxᵢ − w_{yᵢ}ᵀxᵢ)
/// </code>
/// with the bias as an extra constant feature (regularised, as in LIBLINEAR). Each epoch visits the
/// images in a seeded random order; for each image the 10 dual variables αᵢ (Σ_m αᵢᵐ = 0,
/// αᵢᵐ ≤ 0 for m ≠ yᵢ, αᵢ^{yᵢ} ≤ C) are optimised exactly in closed form, then w_m += Δαᵢᵐ xᵢ.
/// Single-threaded and deterministic.
/// </summary>
internal sealed class CrammerSingerSolver
{
    private const int Classes = DigitDataView.ClassCount;
    public const float BiasFeature = 1f;

    private readonly DigitDataView _data;
    private readonly byte[] _labels;
    private readonly double[] _squaredNorms; // ‖xᵢ‖² + B²
    private readonly int _n;
    private readonly int _d;
    private readonly double _c;
    private readonly double _epsilon;
    private readonly Random _random;
    private readonly double[] _alpha;        // n × 10
    private readonly int[] _order;

    public CrammerSingerSolver(DigitDataView data, byte[] labels, double[] squaredNorms, double c, double epsilon, int seed)
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
        Weights = new float[Classes][];
        for (int m = 0; m < Classes; m++) Weights[m] = new float[_d];
        BiasWeights = new double[Classes];
    }

    /// <summary>w_m for each class (without the bias term).</summary>
    public float[][] Weights { get; }

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

    public void RunEpoch()
    {
        if (Converged) return;
        _random.Shuffle(_order);
        ReadOnlySpan<float> pixels = _data.ContiguousPixels;
        Span<double> g = stackalloc double[Classes];
        Span<double> b = stackalloc double[Classes];
        Span<double> sorted = stackalloc double[Classes];
        Span<double> alphaNew = stackalloc double[Classes];
        double stopping = double.NegativeInfinity;
        double hinge = 0;
        int correct = 0;

        foreach (int i in _order)
        {
            double a = _squaredNorms[i];  // ≥ B² > 0
            ReadOnlySpan<float> x = pixels.Slice(i * _d, _d);
            int yi = _labels[i];
            Span<double> alpha = _alpha.AsSpan(i * Classes, Classes);

            double minG = double.PositiveInfinity, maxG = double.NegativeInfinity;
            bool best = true;
            for (int m = 0; m < Classes; m++)
            {
                double score = TensorPrimitives.Dot<float>(Weights[m], x) + BiasWeights[m] * BiasFeature;
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

            for (int m = 0; m < Classes; m++)
            {
                double delta = alphaNew[m] - alpha[m];
                alpha[m] = alphaNew[m];
                if (Math.Abs(delta) > 1e-12)
                {
                    TensorPrimitives.MultiplyAdd(x, (float)delta, Weights[m], Weights[m]);
                    BiasWeights[m] += delta * BiasFeature;
                }
            }
        }
        Epochs++;
        RunningLoss = hinge / _n;
        RunningAccuracy = (double)correct / _n;
        LastViolation = stopping;
        if (stopping < _epsilon) Converged = true;
    }
}
