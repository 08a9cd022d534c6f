using Mnist.Baselines.Optimization;

namespace Mnist.Tests.Baselines;

[TestFixture]
public sealed class LbfgsTests
{
    private static double Rosenbrock(ReadOnlySpan<double> x, Span<double> g)
    {
        // Extended Rosenbrock: Σ 100(x_{i+1} − x_i²)² + (1 − x_i)², minimum 0 at (1, …, 1).
        double f = 0;
        g.Clear();
        for (int i = 0; i + 1 < x.Length; i++)
        {
            double a = x[i + 1] - x[i] * x[i];
            double b = 1 - x[i];
            f += 100 * a * a + b * b;
            g[i] += -400 * a * x[i] - 2 * b;
            g[i + 1] += 200 * a;
        }
        return f;
    }

    [Test]
    public void MinimizesTwoDimensionalRosenbrockFromTheClassicStart()
    {
        var result = Lbfgs.Minimize(Rosenbrock, [-1.2, 1.0], new LbfgsOptions(MaxIterations: 200, GradientTolerance: 1e-9));

        Assert.That(result.Status, Is.EqualTo(LbfgsStatus.GradientConverged));
        Assert.That(result.Solution[0], Is.EqualTo(1.0).Within(1e-7));
        Assert.That(result.Solution[1], Is.EqualTo(1.0).Within(1e-7));
        Assert.That(result.Value, Is.LessThan(1e-14));
        Assert.That(result.Iterations, Is.LessThan(60));
    }

    [Test]
    public void MinimizesExtendedRosenbrock()
    {
        var start = new double[50];
        for (int i = 0; i < start.Length; i++) start[i] = i % 2 == 0 ? -1.2 : 1.0;

        var result = Lbfgs.Minimize(Rosenbrock, start, new LbfgsOptions(MaxIterations: 1000, GradientTolerance: 1e-8));

        Assert.That(result.Status, Is.EqualTo(LbfgsStatus.GradientConverged));
        Assert.That(result.Solution, Has.All.EqualTo(1.0).Within(1e-6));
    }

    [Test]
    public void SolvesAnIllConditionedQuadraticExactly()
    {
        // f(x) = ½ Σ aᵢ xᵢ² − bᵀx + ½ Σ (x_i − x_{i+1})², a spread over 1..1e4: the minimiser solves A x = b.
        const int n = 40;
        var a = new double[n];
        var b = new double[n];
        for (int i = 0; i < n; i++) { a[i] = Math.Pow(1e4, (double)i / (n - 1)); b[i] = Math.Sin(i + 1); }
        double Quadratic(ReadOnlySpan<double> x, Span<double> g)
        {
            double f = 0;
            g.Clear();
            for (int i = 0; i < n; i++)
            {
                f += 0.5 * a[i] * x[i] * x[i] - b[i] * x[i];
                g[i] += a[i] * x[i] - b[i];
                if (i + 1 < n)
                {
                    double d = x[i] - x[i + 1];
                    f += 0.5 * d * d;
                    g[i] += d;
                    g[i + 1] -= d;
                }
            }
            return f;
        }

        var result = Lbfgs.Minimize(Quadratic, new double[n], new LbfgsOptions(MaxIterations: 2000, GradientTolerance: 1e-6));

        // The exact minimiser: the tridiagonal system (diag(a) + L) x = b, L the path-graph Laplacian, by the Thomas algorithm.
        var lower = new double[n];
        var diagonal = new double[n];
        var upper = new double[n];
        var rhs = (double[])b.Clone();
        for (int i = 0; i < n; i++)
        {
            diagonal[i] = a[i] + (i > 0 ? 1 : 0) + (i + 1 < n ? 1 : 0);
            if (i > 0) lower[i] = -1;
            if (i + 1 < n) upper[i] = -1;
        }
        for (int i = 1; i < n; i++)
        {
            double factor = lower[i] / diagonal[i - 1];
            diagonal[i] -= factor * upper[i - 1];
            rhs[i] -= factor * rhs[i - 1];
        }
        var exact = new double[n];
        exact[n - 1] = rhs[n - 1] / diagonal[n - 1];
        for (int i = n - 2; i >= 0; i--) exact[i] = (rhs[i] - upper[i] * exact[i + 1]) / diagonal[i];

        Assert.That(result.Status, Is.EqualTo(LbfgsStatus.GradientConverged));
        Assert.That(result.GradientMaxNorm, Is.LessThanOrEqualTo(1e-6));
        for (int i = 0; i < n; i++)
            Assert.That(result.Solution[i], Is.EqualTo(exact[i]).Within(2e-6), $"x[{i}]");
    }

    [Test]
    public void ANearlyExactLineSearchMakesLbfgsTerminateLikeConjugateGradients()
    {
        // With full memory and (almost) exact line searches, L-BFGS on an n-dimensional quadratic is
        // conjugate gradients with a scaled start: it converges in about n iterations.
        const int n = 30;
        double Quadratic(ReadOnlySpan<double> x, Span<double> g)
        {
            double f = 0;
            for (int i = 0; i < n; i++)
            {
                double a = Math.Pow(1e3, (double)i / (n - 1));
                f += 0.5 * a * x[i] * x[i] - x[i];
                g[i] = a * x[i] - 1;
            }
            return f;
        }

        var result = Lbfgs.Minimize(Quadratic, new double[n],
            new LbfgsOptions(Memory: n, MaxIterations: 500, GradientTolerance: 1e-9, Curvature: 1e-3, MaxLineSearchEvaluations: 50));

        Assert.That(result.Status, Is.EqualTo(LbfgsStatus.GradientConverged));
        Assert.That(result.Iterations, Is.LessThanOrEqualTo(n + 2));
    }

    [Test]
    public void EveryAcceptedStepSatisfiesTheStrongWolfeConditions()
    {
        // Record (x, f, g) of every evaluation; the callback's invariant says the last one is the new iterate.
        var options = new LbfgsOptions(MaxIterations: 40, GradientTolerance: 1e-12);
        var evaluated = new List<(double[] X, double F, double[] G)>();
        double Recording(ReadOnlySpan<double> x, Span<double> g)
        {
            double f = Rosenbrock(x, g);
            evaluated.Add((x.ToArray(), f, g.ToArray()));
            return f;
        }
        var iterates = new List<(double[] X, double F, double[] G)> { };
        int checkedSteps = 0;
        var result = Lbfgs.Minimize(Recording, [-1.2, 1.0, -1.2, 1.0], options, _ =>
        {
            var previous = iterates.Count == 0 ? evaluated[0] : iterates[^1];
            var current = evaluated[^1];
            iterates.Add(current);
            // d = x_new − x_old is a positive multiple of the search direction: check the conditions along it.
            var d = current.X.Zip(previous.X, (p, q) => p - q).ToArray();
            double slope0 = d.Zip(previous.G, (p, q) => p * q).Sum();
            double slope1 = d.Zip(current.G, (p, q) => p * q).Sum();
            Assert.That(slope0, Is.LessThan(0), "descent direction");
            Assert.That(current.F, Is.LessThanOrEqualTo(previous.F + 1e-4 * slope0), "sufficient decrease");
            Assert.That(Math.Abs(slope1), Is.LessThanOrEqualTo(0.9 * Math.Abs(slope0) * (1 + 1e-12)), "curvature");
            checkedSteps++;
            return true;
        });

        Assert.That(checkedSteps, Is.EqualTo(result.Iterations));
        Assert.That(checkedSteps, Is.GreaterThan(10));
    }

    [Test]
    public void CallbackCanStopAndCancellationIsHonoured()
    {
        var stopped = Lbfgs.Minimize(Rosenbrock, [-1.2, 1.0], new LbfgsOptions(MaxIterations: 100), state => state.Iteration < 3);
        Assert.That(stopped.Status, Is.EqualTo(LbfgsStatus.Stopped));
        Assert.That(stopped.Iterations, Is.EqualTo(3));

        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        Assert.That(() => Lbfgs.Minimize(Rosenbrock, [-1.2, 1.0], new LbfgsOptions(), null, cancellation.Token),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void MaxIterationsIsReported()
    {
        var result = Lbfgs.Minimize(Rosenbrock, [-1.2, 1.0], new LbfgsOptions(MaxIterations: 5, GradientTolerance: 0));
        Assert.That(result.Status, Is.EqualTo(LbfgsStatus.MaxIterations));
        Assert.That(result.Iterations, Is.EqualTo(5));
        Assert.That(result.Value, Is.LessThan(Rosenbrock([-1.2, 1.0], new double[2])));
    }

    [Test]
    public void CubicInterpolationFindsTheMinimumOfACubic()
    {
        // φ(t) = t³/3 − 2t² + 3t has φ'(t) = (t − 1)(t − 3): local minimum at 3. A cubic is interpolated exactly.
        static double Phi(double t) => t * t * t / 3 - 2 * t * t + 3 * t;
        static double Slope(double t) => (t - 1) * (t - 3);

        double minimizer = LineSearch.CubicMinimizer(2, Phi(2), Slope(2), 5, Phi(5), Slope(5));

        Assert.That(minimizer, Is.EqualTo(3.0).Within(1e-12));
    }
}
