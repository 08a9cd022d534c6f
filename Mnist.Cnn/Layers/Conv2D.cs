using Mnist.Core.Numerics;

namespace Mnist.Cnn.Layers;

/// <summary>Whether a convolution keeps the image size ('same', zero padding) or shrinks it ('valid').</summary>
public enum Padding
{
    Same,
    Valid,
}

/// <summary>
/// 2-D convolution, stride 1, NHWC, by <see cref="Convolution"/>: a direct, register-tiled convolution of each
/// zero-padded image (no lowered patch matrix). Backward: dW and db summed over the batch, and dX as the
/// convolution of dOut with the flipped kernel.
/// </summary>
public sealed class Conv2D(int filters, int kernelSize, Padding padding = Padding.Same) : Layer
{
    private Parameter _weights = null!;
    private Parameter _bias = null!;

    public int Filters { get; } = filters > 0 ? filters : throw new ArgumentOutOfRangeException(nameof(filters));
    public int KernelSize { get; } = kernelSize > 0 ? kernelSize : throw new ArgumentOutOfRangeException(nameof(kernelSize));
    public Padding Padding { get; } = padding;
    /// <summary>The kernels of the three products: Auto uses Winograd where it fits (<see cref="WinogradConvolution.Supports"/>).</summary>
    internal ConvolutionAlgorithm Algorithm { get; init; }
    public override string Describe() => $"Conv2D {Filters} {KernelSize}×{KernelSize} {Padding.ToString().ToLowerInvariant()}";
    public override IReadOnlyList<Parameter> Parameters => [_weights, _bias];

    /// <summary>Zero rows/columns added above and left of the input ('same': (k−1)/2; the rest goes below and right).</summary>
    private int PadBefore => Padding == Padding.Same ? (KernelSize - 1) / 2 : 0;
    private int PatchSize => KernelSize * KernelSize * InputShape.Channels;

    private ConvolutionShape Shape => new(InputShape.Height, InputShape.Width, InputShape.Channels, KernelSize, PadBefore,
        OutputShape.Height, OutputShape.Width, Filters);

    protected override TensorShape ComputeOutputShape(TensorShape input)
    {
        if (Padding == Padding.Same) return input with { Channels = Filters };
        int h = input.Height - KernelSize + 1, w = input.Width - KernelSize + 1;
        if (h <= 0 || w <= 0) throw new ArgumentException($"A {KernelSize}×{KernelSize} valid convolution does not fit a {input} input.");
        return new TensorShape(h, w, Filters);
    }

    protected override void Initialize(Random random)
    {
        _weights = NewParameter("weights", (long)PatchSize * Filters, decay: true);
        _bias = NewParameter("bias", Filters, decay: false);
        FillUniform(_weights.Value, Math.Sqrt(6.0 / PatchSize), random); // He-uniform for the ReLU that follows
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        Convolution.Forward(Shape, input, batch, _weights.Value, _bias.Value, output, algorithm: Algorithm);

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        var shape = Shape;
        Convolution.WeightGradient(shape, input, outputGradient, batch, _weights.Gradient, _bias.Gradient, algorithm: Algorithm);
        if (!inputGradient.IsEmpty) Convolution.InputGradient(shape, outputGradient, batch, _weights.Value, inputGradient, algorithm: Algorithm);
    }
}
