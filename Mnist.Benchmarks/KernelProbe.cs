using System.Diagnostics;
using System.Runtime.Intrinsics;
using Mnist.Core.Numerics;

namespace Mnist.Benchmarks;

/// <summary>`-- quick --kernel`: throughput of the bare 6×64 AVX-512 micro-kernel on cache-resident data, for tuning.</summary>
internal static unsafe class KernelProbe
{
    private const int Calls = 2000;

    public static void Run()
    {
        foreach (int kc in new[] { 64, 128, 256, 512 })
        {
            float* a = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(6 * kc * 4), 64);
            float* b = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(64 * kc * 4), 64);
            float* c = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * 64 * 4, 64);
            for (int i = 0; i < 6 * kc; i++) a[i] = 1e-3f * i;
            for (int i = 0; i < 64 * kc; i++) b[i] = 1e-3f * i;
            Report<C6, C4>(kc, a, b, c);
            Report<C6, C2>(kc, a, b, c);
            Report<C4, C4>(kc, a, b, c);
        }
    }

    /// <summary>The best of 50 timings of <see cref="Calls"/> calls of one TM × (TN vectors) tile, in GFLOP/s.</summary>
    private static void Report<TM, TN>(int kc, float* a, float* b, float* c) where TM : struct, IConstant where TN : struct, IConstant
    {
        int columns = TN.Value * 16;
        var scale = new TileScale(1f, 0f);
        double best = double.MaxValue;
        for (int rep = 0; rep < 50; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < Calls; i++)
                GemmKernels<Avx512Ops, Vector512<float>>.Tile<TM, TN>(kc, a, kc, 1, b, columns, c, 64, 16, scale);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        Console.WriteLine($"kernel {TM.Value}x{columns} kc={kc,4}: {2.0 * TM.Value * columns * kc * Calls / best / 1e9:F1} GFLOP/s");
    }
}

internal static class OverheadProbe
{
    public static void Run()
    {
        foreach (var (m, n, k) in new[] { (6, 128, 128), (6, 64, 128), (12, 128, 128), (126, 128, 128), (128, 128, 128), (132, 128, 128), (128, 128, 256), (256, 128, 128) })
        {
            var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
            new Random(1).NextBytes(new byte[1]);
            var rr = new Random(42); bool rnd = Environment.GetEnvironmentVariable("RND") == "1";
            for (int i = 0; i < a.Length; i++) a[i] = rnd ? (float)(rr.NextDouble() * 2 - 1) : i % 7;
            for (int i = 0; i < b.Length; i++) b[i] = rnd ? (float)(rr.NextDouble() * 2 - 1) : i % 5;
            double best = double.MaxValue;
            for (int rep = 0; rep < 20000; rep++)
            {
                long t0 = Stopwatch.GetTimestamp();
                Gemm.Multiply(Transpose.No, Transpose.No, m, n, k, 1f, a, k, b, n, 0f, c, n, 1);
                best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
            Console.WriteLine($"{m}x{n}x{k}: {best:F2} µs  {2.0 * m * n * k / best / 1e3:F1} GFLOP/s");
        }
    }
}

internal static class BandwidthProbe
{
    public static void Run()
    {
        var x = new float[60000 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = i;
        double best = double.MaxValue;
        float sink = 0;
        for (int rep = 0; rep < 15; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += System.Numerics.Tensors.TensorPrimitives.Sum(x);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        Console.WriteLine($"read {x.Length * 4 / 1e6:F0} MB: {best * 1e3:F2} ms = {x.Length * 4 / best / 1e9:F1} GB/s (sink {sink})");
    }
}

internal sealed class RunnerProbe : IParallelJob
{
    private readonly int[] _thread = new int[16];

    public void Execute(int part)
    {
        _thread[part] = Environment.CurrentManagedThreadId;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalMilliseconds < 1) { }
    }

    public static void Run()
    {
        foreach (int parts in new[] { 2, 4, 8 })
        {
            var probe = new RunnerProbe();
            double best = double.MaxValue;
            int helperParts = 0;
            for (int i = 0; i < 200; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                ParallelRunner.Run(probe, parts, 2);
                best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                helperParts += probe._thread.Take(parts).Count(t => t != Environment.CurrentManagedThreadId);
            }
            Console.WriteLine($"{parts} parts of 1 ms on 2 threads: best {best:F2} ms (ideal {parts / 2.0:F1}); helper ran {helperParts / 200.0:F1} parts per run");
        }
    }
}
