using System.Numerics.Tensors;
using Mnist.Core.Data;

namespace Mnist.Baselines.LinearSvm;

/// <summary>
/// One binary L2-regularised L2-loss (squared hinge) SVM solved in the dual by coordinate descent with
/// shrinking — LIBLINEAR's <c>solve_l2r_l1l2_svc</c> for the L2-loss case (Hsieh et al., ICML 2008):
/// <code>
/// min_w ½‖w‖² + C Σᵢ max(0, 1 − yᵢ wᵀxᵢ)²    ⇔    min_{α≥0} ½ αᵀ(Q + D)α − eᵀα,  D = I/(2C)
/// </code>
/// with the bias as an extra constant feature (value <see cref="BiasFeature"/>, regularised like the
/// weights, as in LIBLINEAR). One <see cref="RunEpoch"/> is one LIBLINEAR outer iteration: a random
/// permutation of the active set, then one coordinate step per active variable.
/// </summary>
internal sealed class DualCoordinateDescent
{
    public const float BiasFeature = 1f;

    private readonly DigitDataView _data; // contiguous n × d, shared, read-only
    private readonly double[] _diagonal;  // Q̄ᵢᵢ = ‖xᵢ‖² + B² + 1/(2C), shared, read-only
    private readonly sbyte[] _y;
    private readonly int _n;
    private readonly int _d;
    private readonly double _dii;
    private readonly double _epsilon;
    private readonly bool _shrinking;
    private readonly Random _random;
    private readonly double[] _alpha;
    private readonly int[] _index;
    private int _activeSize;
    private double _projectedMaxOld = double.PositiveInfinity;
    private double _projectedMinOld = double.NegativeInfinity;

    /// <param name="data">Contiguous images (shared by all classes).</param>
    /// <param name="diagonal">‖xᵢ‖² + B² + 1/(2C) per row (shared by all classes).</param>
    /// <param name="y">+1 / −1 targets.</param>
    public DualCoordinateDescent(DigitDataView data, double[] diagonal, sbyte[] y, double c, double epsilon, bool shrinking, int seed)
    {
        _data = data;
        _diagonal = diagonal;
        _y = y;
        _n = y.Length;
        _d = data.PixelCount;
        _dii = 0.5 / c;
        _epsilon = epsilon;
        _shrinking = shrinking;
        _random = new Random(seed);
        _alpha = new double[_n];
        _index = new int[_n];
        for (int i = 0; i < _n; i++) _index[i] = i;
        _activeSize = _n;
        Weights = new float[_d];
    }

    /// <summary>w (without the bias term).</summary>
    public float[] Weights { get; }

    /// <summary>The bias weight (the coefficient of the constant feature B); the decision bias is BiasWeight × B.</summary>
    public double BiasWeight { get; private set; }

    public bool Converged { get; private set; }
    public int Epochs { get; private set; }
    public int ActiveSize => _activeSize;

    /// <summary>The dual objective ½αᵀQ̄α − eᵀα = ½‖w‖² + Σαᵢ²/(4C) − Σαᵢ (to be minimised).</summary>
    public double DualObjective()
    {
        double w2 = TensorPrimitives.Dot<float>(Weights, Weights) + BiasWeight * BiasWeight;
        double alphaSquares = 0, alphaSum = 0;
        foreach (double a in _alpha) { alphaSquares += a * a; alphaSum += a; }
        return 0.5 * w2 + 0.5 * _dii * alphaSquares - alphaSum;
    }

    /// <summary>One outer iteration; sets <see cref="Converged"/> when the projected-gradient gap is within ε on the full set.</summary>
    public void RunEpoch()
    {
        if (Converged) return;
        double projectedMaxNew = double.NegativeInfinity, projectedMinNew = double.PositiveInfinity;
        _random.Shuffle(_index.AsSpan(0, _activeSize));
        float[] w = Weights;
        ReadOnlySpan<float> pixels = _data.ContiguousPixels;
        for (int s = 0; s < _activeSize; s++)
        {
            int i = _index[s];
            int yi = _y[i];
            ReadOnlySpan<float> x = pixels.Slice(i * _d, _d);
            double gradient = yi * (TensorPrimitives.Dot<float>(w, x) + BiasWeight * BiasFeature) - 1 + _alpha[i] * _dii;
            double projected = 0;
            if (_alpha[i] == 0)
            {
                if (gradient > _projectedMaxOld)
                {
                    // Shrink: αᵢ is at its bound and likely to stay there.
                    _activeSize--;
                    (_index[s], _index[_activeSize]) = (_index[_activeSize], _index[s]);
                    s--;
                    continue;
                }
                if (gradient < 0) projected = gradient;
            }
            else
            {
                projected = gradient;   // no upper bound for the L2 loss
            }
            projectedMaxNew = Math.Max(projectedMaxNew, projected);
            projectedMinNew = Math.Min(projectedMinNew, projected);

            if (Math.Abs(projected) > 1e-12)
            {
                double old = _alpha[i];
                double updated = Math.Max(old - gradient / _diagonal[i], 0.0);
                _alpha[i] = updated;
                double delta = (updated - old) * yi;
                TensorPrimitives.MultiplyAdd(x, (float)delta, w, w);
                BiasWeight += delta * BiasFeature;
            }
        }
        Epochs++;

        if (projectedMaxNew - projectedMinNew <= _epsilon)
        {
            if (_activeSize == _n)
            {
                Converged = true;
                return;
            }
            // Converged on the shrunk set: check again on everything.
            _activeSize = _n;
            _projectedMaxOld = double.PositiveInfinity;
            _projectedMinOld = double.NegativeInfinity;
            return;
        }
        if (!_shrinking) return;
        _projectedMaxOld = projectedMaxNew <= 0 ? double.PositiveInfinity : projectedMaxNew;
        _projectedMinOld = projectedMinNew >= 0 ? double.NegativeInfinity : projectedMinNew;
    }
}
