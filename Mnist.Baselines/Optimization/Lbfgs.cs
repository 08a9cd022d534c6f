using System.Numerics.Tensors;

namespace Mnist.Baselines.Optimization;

/// <summary>
/// A smooth objective: returns f(x) and writes ∇f(x) into <paramref name="gradient"/>.
/// </summary>
public delegate double GradientFunction(ReadOnlySpan<double> x, Span<double> gradient);

/// <summary>Settings of <see cref="Lbfgs"/>.</summary>
/// <param name="Memory">Number of (s, y) correction pairs kept (m).</param>
/// <param name="MaxIterations">Iteration cap (one iteration = one line search).</param>
/// <param name="GradientTolerance">Stop when max |∂f/∂xᵢ| ≤ this (scipy's pgtol). 0 disables.</param>
/// <param name="FunctionTolerance">Stop when (f_prev − f) / max(|f_prev|, |f|, 1) ≤ this. 0 disables.</param>
/// <param name="MaxLineSearchEvaluations">Function evaluations allowed per line search.</param>
/// <param name="SufficientDecrease">Armijo constant c₁.</param>
/// <param name="Curvature">Strong-Wolfe curvature constant c₂ (0.9 is standard for quasi-Newton).</param>
public sealed record LbfgsOptions(
    int Memory = 10,
    int MaxIterations = 100,
    double GradientTolerance = 1e-5,
    double FunctionTolerance = 0,
    int MaxLineSearchEvaluations = 25,
    double SufficientDecrease = 1e-4,
    double Curvature = 0.9)
{
    public void Validate()
    {
        if (Memory < 1) throw new ArgumentOutOfRangeException(nameof(Memory), "L-BFGS memory must be at least 1.");
        if (MaxIterations < 0) throw new ArgumentOutOfRangeException(nameof(MaxIterations), "The iteration cap cannot be negative.");
        if (!(GradientTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(GradientTolerance), "The gradient tolerance must be ≥ 0.");
        if (!(FunctionTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(FunctionTolerance), "The function tolerance must be ≥ 0.");
        if (MaxLineSearchEvaluations < 2) throw new ArgumentOutOfRangeException(nameof(MaxLineSearchEvaluations), "A line search needs at least 2 evaluations.");
        if (!(SufficientDecrease > 0 && SufficientDecrease < Curvature && Curvature < 1))
            throw new ArgumentOutOfRangeException(nameof(Curvature), "Strong-Wolfe constants need 0 < c1 < c2 < 1.");
    }
}

/// <summary>Why <see cref="Lbfgs.Minimize"/> stopped.</summary>
public enum LbfgsStatus
{
    GradientConverged,
    FunctionConverged,
    MaxIterations,
    /// <summary>No step satisfying the Wolfe conditions was found even along steepest descent (usually: converged to rounding noise).</summary>
    LineSearchFailed,
    /// <summary>The per-iteration callback asked to stop.</summary>
    Stopped,
}

/// <summary>State after one L-BFGS iteration, passed to the callback.</summary>
/// <param name="Iteration">1-based iteration number.</param>
/// <param name="Value">f at the new iterate.</param>
/// <param name="GradientMaxNorm">max |∂f/∂xᵢ| at the new iterate.</param>
/// <param name="Step">Accepted step length along the search direction.</param>
/// <param name="Evaluations">Total function evaluations so far.</param>
public readonly record struct LbfgsIteration(int Iteration, double Value, double GradientMaxNorm, double Step, int Evaluations);

/// <summary>Result of <see cref="Lbfgs.Minimize"/>.</summary>
public sealed record LbfgsResult(double[] Solution, double Value, double GradientMaxNorm, int Iterations, int Evaluations, LbfgsStatus Status);

/// <summary>
/// Limited-memory BFGS (Nocedal &amp; Wright, Alg. 7.4/7.5) with a strong-Wolfe line search
/// (bracketing + safeguarded cubic-interpolation zoom, N&amp;W Alg. 3.5/3.6). All state is float64.
/// </summary>
/// <remarks>
/// Invariant useful to callers: when the callback runs, the most recent call of the objective was at
/// the current iterate, so an objective may cache by-products of its last evaluation (e.g. accuracy).
/// </remarks>
public static class Lbfgs
{
    /// <param name="function">The objective.</param>
    /// <param name="initial">Starting point (not modified).</param>
    /// <param name="options">Settings.</param>
    /// <param name="onIteration">Called after each iteration; return false to stop.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    public static LbfgsResult Minimize(
        GradientFunction function,
        ReadOnlySpan<double> initial,
        LbfgsOptions options,
        Func<LbfgsIteration, bool>? onIteration = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int n = initial.Length;
        int m = options.Memory;

        var x = initial.ToArray();
        var g = new double[n];
        var direction = new double[n];
        var xNew = new double[n];
        var gNew = new double[n];
        var s = new double[m][];
        var y = new double[m][];
        for (int i = 0; i < m; i++) { s[i] = new double[n]; y[i] = new double[n]; }
        var rho = new double[m];
        var alphaTwoLoop = new double[m];
        int stored = 0, newest = -1;

        cancellationToken.ThrowIfCancellationRequested();
        double f = function(x, g);
        int evaluations = 1;
        if (!double.IsFinite(f)) throw new ArithmeticException($"The objective is not finite at the starting point ({f}).");
        double gMax = MaxAbs(g);
        if (options.GradientTolerance > 0 && gMax <= options.GradientTolerance)
            return new LbfgsResult(x, f, gMax, 0, evaluations, LbfgsStatus.GradientConverged);

        var search = new LineSearch(function, options, n);
        for (int iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Search direction d = −H·g by the two-loop recursion; H₀ = γI with γ = sᵀy / yᵀy.
            bool steepest = stored == 0;
            ComputeDirection(g, direction, s, y, rho, alphaTwoLoop, stored, newest, m);
            double slope = TensorPrimitives.Dot<double>(direction, g);
            if (!(slope < 0))
            {
                // Rounding made the quasi-Newton direction non-descent: forget the memory.
                stored = 0;
                steepest = true;
                ComputeDirection(g, direction, s, y, rho, alphaTwoLoop, 0, -1, m);
                slope = TensorPrimitives.Dot<double>(direction, g);
            }
            double initialStep = steepest ? Math.Min(1.0, 1.0 / Math.Sqrt(TensorPrimitives.Dot<double>(g, g))) : 1.0;

            var outcome = search.Run(x, f, direction, slope, initialStep, xNew, gNew);
            evaluations += outcome.Evaluations;
            if (!outcome.Success)
            {
                if (!steepest)
                {
                    // Retry once along steepest descent with an empty memory.
                    stored = 0;
                    ComputeDirection(g, direction, s, y, rho, alphaTwoLoop, 0, -1, m);
                    slope = TensorPrimitives.Dot<double>(direction, g);
                    initialStep = Math.Min(1.0, 1.0 / Math.Sqrt(TensorPrimitives.Dot<double>(g, g)));
                    outcome = search.Run(x, f, direction, slope, initialStep, xNew, gNew);
                    evaluations += outcome.Evaluations;
                }
                if (!outcome.Success)
                {
                    // The line search leaves the objective last evaluated at x (see Run), keeping the invariant.
                    return new LbfgsResult(x, f, gMax, iteration - 1, evaluations, LbfgsStatus.LineSearchFailed);
                }
            }

            // Update the memory with s = x_new − x, y = g_new − g (skipped when curvature is not positive).
            int slot = (newest + 1) % m;
            TensorPrimitives.Subtract<double>(xNew, x, s[slot]);
            TensorPrimitives.Subtract<double>(gNew, g, y[slot]);
            double sy = TensorPrimitives.Dot<double>(s[slot], y[slot]);
            double yy = TensorPrimitives.Dot<double>(y[slot], y[slot]);
            if (sy > 1e-10 * Math.Sqrt(yy * TensorPrimitives.Dot<double>(s[slot], s[slot])) && yy > 0)
            {
                rho[slot] = 1.0 / sy;
                newest = slot;
                stored = Math.Min(stored + 1, m);
            }
            else if (stored == m)
            {
                stored--;   // the slot just overwritten held the oldest pair: drop it
            }

            double fPrevious = f;
            f = outcome.Value;
            (x, xNew) = (xNew, x);
            (g, gNew) = (gNew, g);
            gMax = MaxAbs(g);

            if (onIteration is not null && !onIteration(new LbfgsIteration(iteration, f, gMax, outcome.Step, evaluations)))
                return new LbfgsResult(x, f, gMax, iteration, evaluations, LbfgsStatus.Stopped);
            if (options.GradientTolerance > 0 && gMax <= options.GradientTolerance)
                return new LbfgsResult(x, f, gMax, iteration, evaluations, LbfgsStatus.GradientConverged);
            if (options.FunctionTolerance > 0 &&
                (fPrevious - f) <= options.FunctionTolerance * Math.Max(Math.Max(Math.Abs(fPrevious), Math.Abs(f)), 1.0))
                return new LbfgsResult(x, f, gMax, iteration, evaluations, LbfgsStatus.FunctionConverged);
        }
        return new LbfgsResult(x, f, gMax, options.MaxIterations, evaluations, LbfgsStatus.MaxIterations);
    }

    private static void ComputeDirection(
        double[] g, double[] d, double[][] s, double[][] y, double[] rho, double[] alpha, int stored, int newest, int m)
    {
        // d ← −g, then the two-loop recursion on d (so d = −H·g at the end).
        TensorPrimitives.Negate<double>(g, d);
        if (stored == 0) return;
        int index = newest;
        for (int i = 0; i < stored; i++)
        {
            alpha[index] = rho[index] * TensorPrimitives.Dot<double>(s[index], d);
            TensorPrimitives.MultiplyAdd<double>(y[index], -alpha[index], d, d);
            index = (index - 1 + m) % m;
        }
        double gamma = TensorPrimitives.Dot<double>(s[newest], y[newest]) / TensorPrimitives.Dot<double>(y[newest], y[newest]);
        TensorPrimitives.Multiply<double>(d, gamma, d);
        index = (newest - stored + 1 + m) % m;
        for (int i = 0; i < stored; i++)
        {
            double beta = rho[index] * TensorPrimitives.Dot<double>(y[index], d);
            TensorPrimitives.MultiplyAdd<double>(s[index], alpha[index] - beta, d, d);
            index = (index + 1) % m;
        }
    }

    internal static double MaxAbs(ReadOnlySpan<double> v) => v.Length == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(v));
}

/// <summary>
/// Strong-Wolfe line search along a descent direction (Nocedal &amp; Wright Alg. 3.5 with the zoom of
/// Alg. 3.6, safeguarded cubic interpolation). Finds α with
/// φ(α) ≤ φ(0) + c₁αφ'(0) and |φ'(α)| ≤ c₂|φ'(0)|, where φ(α) = f(x + αd).
/// </summary>
internal sealed class LineSearch
{
    private readonly GradientFunction _function;
    private readonly LbfgsOptions _options;
    private readonly double[] _xLow;

    public LineSearch(GradientFunction function, LbfgsOptions options, int n)
    {
        _function = function;
        _options = options;
        _xLow = new double[n];
    }

    public readonly record struct Outcome(bool Success, double Step, double Value, int Evaluations);

    /// <summary>
    /// Searches from <paramref name="x"/> (value <paramref name="f0"/>) along <paramref name="d"/>
    /// (slope <paramref name="slope0"/> = ∇f(x)·d &lt; 0); on success <paramref name="xOut"/>/<paramref name="gOut"/> hold the
    /// accepted point, which is also the last point evaluated. On failure the objective was last
    /// evaluated at <paramref name="x"/> again (one extra evaluation), its gradient in <paramref name="gOut"/>.
    /// </summary>
    public Outcome Run(double[] x, double f0, double[] d, double slope0, double initialStep, double[] xOut, double[] gOut)
    {
        double c1 = _options.SufficientDecrease, c2 = _options.Curvature;
        int maxEvaluations = _options.MaxLineSearchEvaluations;
        int evaluations = 0;

        double Evaluate(double step, out double slope)
        {
            TensorPrimitives.MultiplyAdd<double>(d, step, x, xOut);
            double value = _function(xOut, gOut);
            evaluations++;
            slope = TensorPrimitives.Dot<double>(gOut, d);
            return value;
        }

        // Bracketing phase; the low end of the bracket is always a sufficient-decrease point (its x kept in _xLow).
        double stepPrevious = 0, valuePrevious = f0, slopePrevious = slope0;
        double step = initialStep;
        const double maxStep = 1e10;
        bool bracketed = false;
        double stepLow = 0, valueLow = f0, slopeLow = slope0;
        double stepHigh = 0, valueHigh = 0, slopeHigh = 0;

        while (evaluations < maxEvaluations)
        {
            double value = Evaluate(step, out double slope);
            if (!double.IsFinite(value) || value > f0 + c1 * step * slope0 || (evaluations > 1 && value >= valuePrevious))
            {
                bracketed = true;
                (stepLow, valueLow, slopeLow) = (stepPrevious, valuePrevious, slopePrevious);
                (stepHigh, valueHigh, slopeHigh) = (step, value, slope);
                break;
            }
            if (Math.Abs(slope) <= -c2 * slope0) return new Outcome(true, step, value, evaluations);
            if (slope >= 0)
            {
                bracketed = true;
                (stepLow, valueLow, slopeLow) = (step, value, slope);
                (stepHigh, valueHigh, slopeHigh) = (stepPrevious, valuePrevious, slopePrevious);
                SaveCurrentAsLow();
                break;
            }
            (stepPrevious, valuePrevious, slopePrevious) = (step, value, slope);
            SaveCurrentAsLow();
            double next = Math.Min(step * 4, maxStep);
            if (next == step) break;
            step = next;
        }
        if (!bracketed && stepPrevious > 0)
            (stepLow, valueLow) = (stepPrevious, valuePrevious);   // budget spent while extrapolating

        if (bracketed)
        {
            while (evaluations < maxEvaluations)
            {
                double width = Math.Abs(stepHigh - stepLow);
                if (width <= 1e-14 * Math.Max(1.0, Math.Abs(stepLow))) break;
                double trial = CubicMinimizer(stepLow, valueLow, slopeLow, stepHigh, valueHigh, slopeHigh);
                double lower = Math.Min(stepLow, stepHigh), upper = Math.Max(stepLow, stepHigh);
                double margin = 0.1 * (upper - lower);
                if (!double.IsFinite(trial) || trial < lower + margin || trial > upper - margin)
                    trial = 0.5 * (stepLow + stepHigh);
                double value = Evaluate(trial, out double slope);
                if (!double.IsFinite(value) || value > f0 + c1 * trial * slope0 || value >= valueLow)
                {
                    (stepHigh, valueHigh, slopeHigh) = (trial, value, slope);
                }
                else
                {
                    if (Math.Abs(slope) <= -c2 * slope0) return new Outcome(true, trial, value, evaluations);
                    if (slope * (stepHigh - stepLow) >= 0)
                        (stepHigh, valueHigh, slopeHigh) = (stepLow, valueLow, slopeLow);
                    (stepLow, valueLow, slopeLow) = (trial, value, slope);
                    SaveCurrentAsLow();
                }
            }
        }

        // No strong-Wolfe point within budget. Accept the best sufficient-decrease point if there is one
        // (re-evaluating it so that the last evaluation is the accepted point); otherwise fail.
        if (stepLow > 0 && valueLow < f0)
        {
            _xLow.CopyTo(xOut, 0);
            double value = _function(xOut, gOut);
            evaluations++;
            if (double.IsFinite(value) && value < f0) return new Outcome(true, stepLow, value, evaluations);
        }
        _function(x, gOut);
        evaluations++;
        return new Outcome(false, 0, f0, evaluations);

        void SaveCurrentAsLow() => xOut.CopyTo(_xLow, 0);
    }

    /// <summary>Minimizer of the cubic interpolating (a, fa, ga) and (b, fb, gb); NaN when it has none.</summary>
    internal static double CubicMinimizer(double a, double fa, double ga, double b, double fb, double gb)
    {
        if (!double.IsFinite(fb) || !double.IsFinite(gb)) return double.NaN;
        double d1 = ga + gb - 3 * (fa - fb) / (a - b);
        double discriminant = d1 * d1 - ga * gb;
        if (discriminant < 0) return double.NaN;
        double d2 = Math.Sign(b - a) * Math.Sqrt(discriminant);
        double denominator = gb - ga + 2 * d2;
        if (denominator == 0) return double.NaN;
        return b - (b - a) * (gb + d2 - d1) / denominator;
    }
}
