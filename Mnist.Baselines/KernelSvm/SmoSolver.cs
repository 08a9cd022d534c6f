using System.Runtime.Intrinsics;

namespace Mnist.Baselines.KernelSvm;

/// <summary>
/// The binary C-SVC dual solved by SMO with libsvm's second-order working-set selection (Fan, Chen and Lin,
/// JMLR 2005), over a precomputed kernel matrix:
/// <code>
/// min_α ½ Σᵢⱼ αᵢαⱼ yᵢyⱼ Kᵢⱼ − Σᵢ αᵢ   subject to 0 ≤ αᵢ ≤ C, Σᵢ yᵢαᵢ = 0
/// </code>
/// The decision function is f(x) = Σᵢ αᵢyᵢ k(xᵢ, x) − ρ. Stops when the maximal violating pair's gap
/// m(α) − M(α) is below ε (libsvm's -e, default 1e-3), or after the iteration cap. Sequential and deterministic.
/// </summary>
/// <remarks>
/// Works on Fᵢ = −yᵢ ∇ᵢ (libsvm's −yᵢGᵢ): i maximises F over I_up, j minimises −(F_i − F_j)²/(Kᵢᵢ + Kⱼⱼ − 2Kᵢⱼ) over
/// the I_low members with F_j &lt; F_i, and after a step F −= yᵢΔαᵢ·K_i + yⱼΔαⱼ·K_j (two kernel rows, vectorised).
/// </remarks>
internal sealed class SmoSolver
{
    private const double Tau = 1e-12;

    private readonly Memory<float> _kernel;  // n × n, symmetric
    private readonly sbyte[] _y;
    private readonly int _n;
    private readonly double _c;
    private readonly double _epsilon;
    private readonly double[] _alpha;
    private readonly double[] _f;      // −yᵢ ∇ᵢ
    private readonly double[] _diagonal;

    public SmoSolver(Memory<float> kernel, sbyte[] y, double c, double epsilon)
    {
        _n = y.Length;
        if (kernel.Length < (long)_n * _n) throw new ArgumentException("The kernel matrix is smaller than n × n.", nameof(kernel));
        _kernel = kernel;
        _y = y;
        _c = c;
        _epsilon = epsilon;
        _alpha = new double[_n];
        _f = new double[_n];
        _diagonal = new double[_n];
        ReadOnlySpan<float> k = kernel.Span;
        for (int i = 0; i < _n; i++)
        {
            if (y[i] is not (1 or -1)) throw new ArgumentException("Targets must be +1 or −1.", nameof(y));
            _f[i] = y[i];          // ∇ = Qα − e = −1 at α = 0, so F = yᵢ
            _diagonal[i] = k[i * _n + i];
        }
    }

    public ReadOnlySpan<double> Alpha => _alpha;
    public int Iterations { get; private set; }
    public bool Converged { get; private set; }
    /// <summary>The last maximal-violation gap m(α) − M(α).</summary>
    public double Gap { get; private set; } = double.PositiveInfinity;

    /// <summary>Runs up to <paramref name="maxSteps"/> more SMO steps; returns true once converged.</summary>
    public bool Run(long maxSteps)
    {
        for (long step = 0; step < maxSteps && !Converged; step++)
        {
            if (!Step()) Converged = true;
        }
        return Converged;
    }

    private bool IsUp(int t) => _y[t] > 0 ? _alpha[t] < _c : _alpha[t] > 0;
    private bool IsLow(int t) => _y[t] > 0 ? _alpha[t] > 0 : _alpha[t] < _c;

    /// <summary>One working-set selection and update; false when optimal within ε.</summary>
    private bool Step()
    {
        double fMax = double.NegativeInfinity;
        int i = -1;
        for (int t = 0; t < _n; t++)
            if (_f[t] >= fMax && IsUp(t))
            {
                fMax = _f[t];
                i = t;
            }
        if (i < 0) return false;

        ReadOnlySpan<float> ki = _kernel.Span.Slice(i * _n, _n);
        double fMin = double.PositiveInfinity;
        double bestObjective = double.PositiveInfinity;
        int j = -1;
        double kii = _diagonal[i];
        for (int t = 0; t < _n; t++)
        {
            double ft = _f[t];
            if (!IsLow(t)) continue;
            if (ft < fMin) fMin = ft;
            double gradDiff = fMax - ft;
            if (gradDiff > 0)
            {
                double quad = kii + _diagonal[t] - 2.0 * ki[t];
                double objective = -(gradDiff * gradDiff) / (quad > 0 ? quad : Tau);
                if (objective <= bestObjective)
                {
                    bestObjective = objective;
                    j = t;
                }
            }
        }
        Gap = fMax - fMin;
        if (Gap < _epsilon || j < 0) return false;
        Iterations++;
        Update(i, j);
        return true;
    }

    /// <summary>libsvm's two-variable update (Solver::Solve), in terms of G = −yF.</summary>
    private void Update(int i, int j)
    {
        ReadOnlySpan<float> ki = _kernel.Span.Slice(i * _n, _n);
        ReadOnlySpan<float> kj = _kernel.Span.Slice(j * _n, _n);
        double c = _c;
        double gi = -_y[i] * _f[i], gj = -_y[j] * _f[j];
        double oldI = _alpha[i], oldJ = _alpha[j];
        double ai = oldI, aj = oldJ;
        double quad = _diagonal[i] + _diagonal[j] - 2.0 * ki[j];
        if (quad <= 0) quad = Tau;
        if (_y[i] != _y[j])
        {
            double delta = (-gi - gj) / quad;
            double diff = ai - aj;
            ai += delta;
            aj += delta;
            if (diff > 0) { if (aj < 0) { aj = 0; ai = diff; } }
            else { if (ai < 0) { ai = 0; aj = -diff; } }
            if (diff > 0) { if (ai > c) { ai = c; aj = c - diff; } }
            else { if (aj > c) { aj = c; ai = c + diff; } }
        }
        else
        {
            double delta = (gi - gj) / quad;
            double sum = ai + aj;
            ai -= delta;
            aj += delta;
            if (sum > c) { if (ai > c) { ai = c; aj = sum - c; } }
            else { if (aj < 0) { aj = 0; ai = sum; } }
            if (sum > c) { if (aj > c) { aj = c; ai = sum - c; } }
            else { if (ai < 0) { ai = 0; aj = sum; } }
        }
        _alpha[i] = ai;
        _alpha[j] = aj;
        // F_k −= y_i Δα_i K_ik + y_j Δα_j K_jk.
        double si = _y[i] * (ai - oldI), sj = _y[j] * (aj - oldJ);
        UpdateF(ki, kj, si, sj);
    }

    private void UpdateF(ReadOnlySpan<float> ki, ReadOnlySpan<float> kj, double si, double sj)
    {
        Span<double> f = _f;
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vi = Vector512.Create(si);
            var vj = Vector512.Create(sj);
            for (; k <= _n - Vector512<float>.Count; k += Vector512<float>.Count)
            {
                var (iLow, iHigh) = Vector512.Widen(Vector512.Create(ki.Slice(k, Vector512<float>.Count)));
                var (jLow, jHigh) = Vector512.Widen(Vector512.Create(kj.Slice(k, Vector512<float>.Count)));
                Span<double> target = f.Slice(k, Vector512<float>.Count);
                var low = Vector512.Create<double>(target[..Vector512<double>.Count]);
                var high = Vector512.Create<double>(target[Vector512<double>.Count..]);
                low -= vi * iLow + vj * jLow;
                high -= vi * iHigh + vj * jHigh;
                low.CopyTo(target);
                high.CopyTo(target[Vector512<double>.Count..]);
            }
        }
        for (; k < _n; k++) f[k] -= si * ki[k] + sj * kj[k];
    }

    /// <summary>libsvm's ρ: the mean of −Fᵢ (= yᵢ∇ᵢ) over free αᵢ, else the midpoint of the bounds the others give.</summary>
    public double Rho()
    {
        double upper = double.PositiveInfinity, lower = double.NegativeInfinity, sumFree = 0;
        int free = 0;
        for (int t = 0; t < _n; t++)
        {
            double yg = -_f[t];
            if (_alpha[t] >= _c)
            {
                if (_y[t] < 0) upper = Math.Min(upper, yg);
                else lower = Math.Max(lower, yg);
            }
            else if (_alpha[t] <= 0)
            {
                if (_y[t] > 0) upper = Math.Min(upper, yg);
                else lower = Math.Max(lower, yg);
            }
            else
            {
                free++;
                sumFree += yg;
            }
        }
        return free > 0 ? sumFree / free : (upper + lower) / 2;
    }
}
