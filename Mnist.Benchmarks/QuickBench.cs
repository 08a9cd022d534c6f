using System.Diagnostics;
using Mnist.Core.Numerics;

namespace Mnist.Benchmarks;

/// <summary>
/// `-- quick`: best-of-N wall-clock GFLOP/s table for square GEMMs and the shapes the trainers use, with an
/// OpenBLAS row beside each when Debian's libopenblas is installed. Best-of-N because the other core may be
/// busy; the table states what it measured.
/// </summary>
internal static class QuickBench
{
    /// <summary>
    /// FP32 peak of one core: Zen 5 has two 512-bit FMA pipes → 2 pipes × 16 lanes × 2 flops × ≈3.7 GHz ≈ 237 GFLOP/s.
    /// </summary>
    public const double PeakGflopsPerCore = 237.0;

    private sealed record Case(string Name, bool TransA, bool TransB, int M, int N, int K)
    {
        public int Lda => TransA ? M : K;
        public int Ldb => TransB ? K : N;
        public double Flops => 2.0 * M * N * K;
    }

    public static void Run(string[] args)
    {
        if (args.Contains("--kernel")) { KernelProbe.Run(); return; }
        if (args.Contains("--overhead")) { OverheadProbe.Run(); return; }
        if (args.Contains("--bandwidth")) { BandwidthProbe.Run(); return; }
        if (args.Contains("--runner")) { RunnerProbe.Run(); return; }
        bool noBlas = args.Contains("--no-openblas");
        double budget = args.Contains("--long") ? 1.5 : 0.4;
        // --reps=N: exactly N timed runs after N warm-up runs (for cycle counting with perf stat).
        s_fixedReps = args.FirstOrDefault(a => a.StartsWith("--reps=", StringComparison.Ordinal)) is { } r ? int.Parse(r[7..], System.Globalization.CultureInfo.InvariantCulture) : 0;
        var cases = new List<Case>();
        foreach (int s in new[] { 128, 256, 512, 1024, 2048 })
            cases.Add(new Case($"square n={s}", false, false, s, s, s));
        cases.Add(new Case("X·W 60000×784 · 784×10", false, false, 60000, 10, 784));
        cases.Add(new Case("Xᵀ·G 784×60000ᵀ · 60000×10", true, false, 784, 10, 60000));
        cases.Add(new Case("conv im2col 50176×800 · 800×32", false, false, 64 * 28 * 28, 32, 800));
        cases.Add(new Case("k-NN 2000×784 · (60000×784)ᵀ", false, true, 2000, 60000, 784));
        // The cnn's Dense 256 on a batch of 128: forward, weight gradient, input gradient.
        cases.Add(new Case("dense X·W 128×3136 · 3136×256", false, false, 128, 256, 3136));
        cases.Add(new Case("dense Xᵀ·dY 3136×128ᵀ · 128×256", true, false, 3136, 256, 128));
        cases.Add(new Case("dense dY·Wᵀ 128×256 · (3136×256)ᵀ", false, true, 128, 3136, 256));
        if (args.FirstOrDefault(a => a.StartsWith("--only=", StringComparison.Ordinal)) is { } only)
            cases = cases.Where(c => c.Name.Contains(only["--only=".Length..], StringComparison.OrdinalIgnoreCase)).ToList();
        int[] threadCounts = args.Contains("--t1") ? [1] : args.Contains("--t2") ? [2] : [1, 2];

        foreach (string arg in args)
        {
            // Block-size sweeps for tuning (AVX-512 engine): --kc=256 --nc=512 --block=131072
            static int Value(string a) => int.Parse(a[(a.IndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            if (arg.StartsWith("--skc=", StringComparison.Ordinal)) GemmEngine<Avx512Ops, System.Runtime.Intrinsics.Vector512<float>>.SwappedSliceDepth = Value(arg);
            if (arg.StartsWith("--kc=", StringComparison.Ordinal)) GemmEngine<Avx512Ops, System.Runtime.Intrinsics.Vector512<float>>.MinSliceDepth = Value(arg);
            if (arg.StartsWith("--nc=", StringComparison.Ordinal)) GemmEngine<Avx512Ops, System.Runtime.Intrinsics.Vector512<float>>.BlockWidth = Value(arg);
            if (arg.StartsWith("--block=", StringComparison.Ordinal)) GemmEngine<Avx512Ops, System.Runtime.Intrinsics.Vector512<float>>.BlockFloats = Value(arg);
        }
        OpenBlas? blas = noBlas ? null : OpenBlas.TryLoad();
        Console.WriteLine($"GEMM quick benchmark: ISA {Gemm.DefaultIsa}, {Environment.ProcessorCount} cores, peak {PeakGflopsPerCore} GFLOP/s per core, best of N runs (~{budget}s per cell)");
        Console.WriteLine(blas is null
            ? "OpenBLAS: not installed (skipped)"
            : $"OpenBLAS: {blas.CoreName} kernel (OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "unset"})");
        Console.WriteLine();
        string header = $"{"shape",-32} {"thr",3} {"ms",9} {"GFLOP/s",8} {"%peak",6}" + (blas is null ? "" : $" {"OpenBLAS",9} {"ratio",6}");
        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));

        foreach (var c in cases)
        {
            var rng = new Random(42);
            float[] a = RandomArray(rng, (long)c.M * c.K);
            float[] b = RandomArray(rng, (long)c.K * c.N);
            float[] cm = new float[(long)c.M * c.N];
            foreach (int t in threadCounts)
            {
                double ms = Measure(() => Gemm.Multiply(
                    c.TransA ? Transpose.Yes : Transpose.No, c.TransB ? Transpose.Yes : Transpose.No,
                    c.M, c.N, c.K, 1f, a, c.Lda, b, c.Ldb, 0f, cm, c.N, t), budget);
                double gf = c.Flops / ms / 1e6;
                string line = $"{c.Name,-32} {t,3} {ms,9:F3} {gf,8:F1} {100 * gf / (PeakGflopsPerCore * t),5:F0}%";
                if (blas is not null)
                {
                    blas.SetThreads(t);
                    float[] cb = new float[cm.Length];
                    double bms = Measure(() => blas.Sgemm(c.TransA, c.TransB, c.M, c.N, c.K, 1f, a, c.Lda, b, c.Ldb, 0f, cb, c.N), budget);
                    double bgf = c.Flops / bms / 1e6;
                    line += $" {bgf,9:F1} {gf / bgf,6:F2}";
                }
                Console.WriteLine(line);
            }
        }
        Console.WriteLine();
        Console.WriteLine("%peak is of threads × 237 GFLOP/s (2 FMA pipes × 16 lanes × 2 flops × 3.7 GHz); the core may boost above 3.7 GHz, so >100% occurs.");
        Console.WriteLine("k-NN row: 2000 of the 10000 test images against all 60000 training images (the full product is 5× the work).");
        Console.WriteLine("conv row: a 5×5×32 → 32 convolution of a 64-image batch of 28×28 maps as one im2col product.");
        if (blas is not null) Console.WriteLine("OpenBLAS column: cblas_sgemm on the same inputs and thread count; ratio = ours / OpenBLAS.");
    }

    private static float[] RandomArray(Random rng, long length)
    {
        var x = new float[length];
        for (long i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Best wall-clock milliseconds of repeated runs after a warm-up, within roughly <paramref name="budgetSeconds"/>.</summary>
    private static int s_fixedReps;

    private static double Measure(Action action, double budgetSeconds)
    {
        if (s_fixedReps > 0)
        {
            double fastest = double.MaxValue;
            for (int i = 0; i < 2 * s_fixedReps; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                action();
                if (i >= s_fixedReps) fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            return fastest;
        }
        // Warm up long enough for tiered JIT to finish with the call path (≥ 0.2 s, or at least 2 calls).
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 2 || warm.Elapsed.TotalSeconds < 0.2; i++) action();
        var total = Stopwatch.StartNew();
        double best = double.MaxValue;
        int runs = 0;
        while (runs < 3 || (total.Elapsed.TotalSeconds < budgetSeconds && runs < 100_000))
        {
            long start = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            runs++;
        }
        return best;
    }
}
