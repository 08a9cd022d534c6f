using BenchmarkDotNet.Attributes;
using Mnist.Core.Numerics;

namespace Mnist.Benchmarks;

/// <summary>Square single-precision GEMM, C = A·B, at the sizes of the quick table, on 1 and 2 threads.</summary>
[MemoryDiagnoser]
public class SquareGemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [Params(128, 256, 512, 1024, 2048)]
    public int N { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _a = Fill(rng, N * N);
        _b = Fill(rng, N * N);
        _c = new float[N * N];
    }

    [Benchmark]
    public void Multiply() => Gemm.Multiply(N, N, N, _a, _b, _c, Threads);

    internal static float[] Fill(Random rng, long length)
    {
        var x = new float[length];
        for (long i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}

/// <summary>The products the trainers run, on 1 and 2 threads (see QuickBench for the shapes' meaning).</summary>
[MemoryDiagnoser]
public class TrainerShapeBenchmarks
{
    private float[] _x = [], _w = [], _g = [], _grad = [], _logits = [], _cols = [], _filters = [], _conv = [];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _x = SquareGemmBenchmarks.Fill(rng, 60000L * 784);
        _w = SquareGemmBenchmarks.Fill(rng, 784 * 10);
        _g = SquareGemmBenchmarks.Fill(rng, 60000 * 10);
        _grad = new float[784 * 10];
        _logits = new float[60000 * 10];
        _cols = SquareGemmBenchmarks.Fill(rng, 64L * 28 * 28 * 800);
        _filters = SquareGemmBenchmarks.Fill(rng, 800 * 32);
        _conv = new float[64 * 28 * 28 * 32];
    }

    /// <summary>Softmax-regression forward: logits = X·W, 60000×784 by 784×10.</summary>
    [Benchmark]
    public void Logits() => Gemm.Multiply(Transpose.No, Transpose.No, 60000, 10, 784, 1f, _x, 784, _w, 10, 0f, _logits, 10, Threads);

    /// <summary>Softmax-regression gradient: Xᵀ·G, op(A) = Xᵀ is 784×60000, G is 60000×10.</summary>
    [Benchmark]
    public void Gradient() => Gemm.Multiply(Transpose.Yes, Transpose.No, 784, 10, 60000, 1f, _x, 784, _g, 10, 0f, _grad, 10, Threads);

    /// <summary>Convolution as im2col product: (64·28·28)×800 by 800×32.</summary>
    [Benchmark]
    public void ConvIm2Col() => Gemm.Multiply(Transpose.No, Transpose.No, 64 * 28 * 28, 32, 800, 1f, _cols, 800, _filters, 32, 0f, _conv, 32, Threads);
}

/// <summary>The row-wise kernels on a 60000×10 logits matrix.</summary>
[MemoryDiagnoser]
public class RowKernelBenchmarks
{
    private float[] _logits = [], _work = [];

    [GlobalSetup]
    public void Setup()
    {
        _logits = SquareGemmBenchmarks.Fill(new Random(1), 60000 * 10);
        _work = new float[_logits.Length];
    }

    [Benchmark]
    public void Softmax()
    {
        _logits.CopyTo(_work, 0);
        Kernels.SoftmaxRows(_work, 10);
    }

    [Benchmark]
    public void LogSoftmax()
    {
        _logits.CopyTo(_work, 0);
        Kernels.LogSoftmaxRows(_work, 10);
    }

    [Benchmark]
    public int[] ArgMax() => Kernels.ArgMaxRows(_logits, 10);
}
