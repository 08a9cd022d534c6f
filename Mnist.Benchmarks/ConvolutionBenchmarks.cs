using BenchmarkDotNet.Attributes;
using Mnist.Core.Numerics;

namespace Mnist.Benchmarks;

/// <summary>
/// The convolution kernels on the cnn's four layer shapes, batch 128, on 1 and 2 threads, beside the im2col + GEMM
/// lowering they replaced (`-- --filter *Convolution*`; `-- conv` prints the quick table). Forward and InputGradient
/// are what the layers call (Winograd for conv2); the Direct three are the direct kernel on every layer.
/// </summary>
[MemoryDiagnoser]
public class ConvolutionBenchmarks
{
    private const int Batch = 128;

    private static readonly Dictionary<string, ConvolutionShape> Layers = new()
    {
        ["conv1 28x28x1-32 5x5"] = new(28, 28, 1, 5, 2, 28, 28, 32),
        ["conv2 28x28x32-32 5x5"] = new(28, 28, 32, 5, 2, 28, 28, 32),
        ["conv3 14x14x32-64 3x3"] = new(14, 14, 32, 3, 1, 14, 14, 64),
        ["conv4 14x14x64-64 3x3"] = new(14, 14, 64, 3, 1, 14, 14, 64),
    };

    private ConvolutionShape _shape;
    private LoweredConvolution _lowered = null!;
    private float[] _x = [], _y = [], _dy = [], _dx = [], _w = [], _b = [], _dw = [], _db = [];

    [ParamsSource(nameof(LayerNames))]
    public string Layer { get; set; } = "";

    public static IEnumerable<string> LayerNames => Layers.Keys;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ComputeSettings.Threads = Threads;
        _shape = Layers[Layer];
        var rng = new Random(42);
        _x = SquareGemmBenchmarks.Fill(rng, Batch * _shape.InputSize);
        _dy = SquareGemmBenchmarks.Fill(rng, Batch * _shape.OutputSize);
        _w = SquareGemmBenchmarks.Fill(rng, _shape.Taps * _shape.Filters);
        _b = SquareGemmBenchmarks.Fill(rng, _shape.Filters);
        _y = new float[_dy.Length];
        _dx = new float[_x.Length];
        _dw = new float[_w.Length];
        _db = new float[_b.Length];
        _lowered = new LoweredConvolution(_shape, Batch);
    }

    [Benchmark] public void Forward() => Convolution.Forward(_shape, _x, Batch, _w, _b, _y, Threads);
    [Benchmark] public void WeightGradient() => Convolution.WeightGradient(_shape, _x, _dy, Batch, _dw, _db, Threads);
    [Benchmark] public void InputGradient() => Convolution.InputGradient(_shape, _dy, Batch, _w, _dx, Threads);
    [Benchmark] public void DirectForward() => Convolution.Forward(_shape, _x, Batch, _w, _b, _y, Threads, ConvolutionAlgorithm.Direct);
    [Benchmark] public void DirectWeightGradient() => Convolution.WeightGradient(_shape, _x, _dy, Batch, _dw, _db, Threads, ConvolutionAlgorithm.Direct);
    [Benchmark] public void DirectInputGradient() => Convolution.InputGradient(_shape, _dy, Batch, _w, _dx, Threads, ConvolutionAlgorithm.Direct);
    [Benchmark] public void LoweredForward() => _lowered.Forward(_x, Batch, _w, _b, _y);
    [Benchmark] public void LoweredWeightGradient() => _lowered.WeightGradient(_x, _dy, Batch, _dw, _db);
    [Benchmark] public void LoweredInputGradient() => _lowered.InputGradient(_dy, Batch, _w, _dx);
}
