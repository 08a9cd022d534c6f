using System.Numerics.Tensors;
using Mnist.Core.Numerics;

namespace Mnist.Cnn.Layers;

/// <summary>Whether a convolution keeps the image size ('same', zero padding) or shrinks it ('valid').</summary>
public enum Padding
{
    Same,
    Valid,
}

/// <summary>
/// 2-D convolution, stride 1, NHWC, lowered to matrix products. Each output pixel's k×k×Cin input
/// patch becomes a row of a patch matrix (K = k·k·Cin columns, see <see cref="ChannelsLastLowering.Im2Col"/>),
/// so out = patches·W + b with W of K × filters.
/// </summary>
/// <remarks>
/// The batch's output pixels are split between workers; each lowers <see cref="ChunkRows"/> pixels at a
/// time into its own small scratch (it stays in L2, which is what makes lowering cheap) and calls a
/// single-threaded product. Backward: dW = patchesᵀ·dOut (patches rebuilt, not stored), and dX is itself
/// a convolution — of dOut with the spatially flipped, channel-transposed kernel — so it uses the same
/// lowering instead of a scatter-add.
/// </remarks>
public sealed unsafe class Conv2D(int filters, int kernelSize, Padding padding = Padding.Same) : Layer
{
    /// <summary>Output pixels lowered per product: 256 rows × K floats ≈ 800 KB at K = 800.</summary>
    private const int ChunkRows = 256;

    private Parameter _weights = null!;
    private Parameter _bias = null!;
    private float[] _flippedWeights = [];     // (k·k·filters) × Cin, for the input gradient
    private float[][] _patches = [];          // per worker scratch
    private float[][] _weightGradients = [];  // per worker partial dW
    private float[][] _biasGradients = [];    // per worker partial db

    public int Filters { get; } = filters > 0 ? filters : throw new ArgumentOutOfRangeException(nameof(filters));
    public int KernelSize { get; } = kernelSize > 0 ? kernelSize : throw new ArgumentOutOfRangeException(nameof(kernelSize));
    public Padding Padding { get; } = padding;
    public override string Describe() => $"Conv2D {Filters} {KernelSize}×{KernelSize} {Padding.ToString().ToLowerInvariant()}";
    public override IReadOnlyList<Parameter> Parameters => [_weights, _bias];

    /// <summary>Zero rows/columns added above and left of the input ('same': (k−1)/2; the rest goes below and right).</summary>
    private int PadBefore => Padding == Padding.Same ? (KernelSize - 1) / 2 : 0;
    private int PatchSize => KernelSize * KernelSize * InputShape.Channels;
    private int BackwardPatchSize => KernelSize * KernelSize * Filters;

    protected override TensorShape ComputeOutputShape(TensorShape input)
    {
        if (Padding == Padding.Same) return input with { Channels = Filters };
        int h = input.Height - KernelSize + 1, w = input.Width - KernelSize + 1;
        if (h <= 0 || w <= 0) throw new ArgumentException($"A {KernelSize}×{KernelSize} valid convolution does not fit a {input} input.");
        return new TensorShape(h, w, Filters);
    }

    protected override void Initialize(Random random)
    {
        _weights = new Parameter("weights", PatchSize * Filters, decay: true);
        _bias = new Parameter("bias", Filters, decay: false);
        _flippedWeights = new float[BackwardPatchSize * InputShape.Channels];
        FillUniform(_weights.Value, Math.Sqrt(6.0 / PatchSize), random); // He-uniform for the ReLU that follows
    }

    public override void EnsureCapacity(int maxBatch)
    {
        int workers = WorkSplit.Workers(maxBatch * OutputShape.Height * OutputShape.Width);
        int scratch = ChunkRows * Math.Max(PatchSize, BackwardPatchSize);
        if (_patches.Length >= workers && _patches[0].Length >= scratch) return;
        _patches = new float[workers][];
        _weightGradients = new float[workers][];
        _biasGradients = new float[workers][];
        for (int w = 0; w < workers; w++)
        {
            _patches[w] = new float[scratch];
            _weightGradients[w] = new float[PatchSize * Filters];
            _biasGradients[w] = new float[Filters];
        }
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        EnsureCapacity(batch);
        var lowering = new Lowering(InputShape, OutputShape.Height, OutputShape.Width, KernelSize, PadBefore);
        int k = PatchSize, n = Filters;
        float[] weights = _weights.Value, bias = _bias.Value;
        BatchParallel.For(batch * lowering.PixelsPerImage, input, default, output, (worker, x, _, y, start, end) =>
        {
            float[] patches = _patches[worker];
            for (int first = start; first < end; first += ChunkRows)
            {
                int rows = Math.Min(ChunkRows, end - first);
                lowering.Lower(x, first, rows, patches);
                Span<float> destination = y.Slice(first * n, rows * n);
                Gemm.Multiply(Transpose.No, Transpose.No, rows, n, k, 1f, patches, k, weights, n, 0f, destination, n, threads: 1);
                Kernels.AddBiasRows(destination, bias);
            }
        });
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        EnsureCapacity(batch);
        int k = PatchSize, n = Filters;
        int outputRows = batch * OutputShape.Height * OutputShape.Width;
        var lowering = new Lowering(InputShape, OutputShape.Height, OutputShape.Width, KernelSize, PadBefore);

        // dW = patchesᵀ·dOut and db = Σ dOut, as per-worker partial sums added in worker order.
        int workers = WorkSplit.Workers(outputRows);
        BatchParallel.For(outputRows, input, outputGradient, default, (worker, x, dy, _, start, end) =>
        {
            float[] patches = _patches[worker], weightGradient = _weightGradients[worker], biasGradient = _biasGradients[worker];
            Array.Clear(weightGradient);
            Array.Clear(biasGradient);
            for (int first = start; first < end; first += ChunkRows)
            {
                int rows = Math.Min(ChunkRows, end - first);
                lowering.Lower(x, first, rows, patches);
                ReadOnlySpan<float> dOut = dy.Slice(first * n, rows * n);
                Gemm.Multiply(Transpose.Yes, Transpose.No, k, n, rows, 1f, patches, k, dOut, n, 1f, weightGradient, n, threads: 1);
                for (int r = 0; r < rows; r++) TensorPrimitives.Add(biasGradient, dOut.Slice(r * n, n), biasGradient);
            }
        });
        _weightGradients[0].CopyTo(_weights.Gradient, 0);
        _biasGradients[0].CopyTo(_bias.Gradient, 0);
        for (int w = 1; w < workers; w++)
        {
            TensorPrimitives.Add(_weights.Gradient, _weightGradients[w], _weights.Gradient);
            TensorPrimitives.Add(_bias.Gradient, _biasGradients[w], _bias.Gradient);
        }
        if (inputGradient.IsEmpty) return;

        // dX = dOut ⋆ flip(W): a 'full'-style convolution of the output gradient, lowered the same way.
        FlipWeights();
        int inChannels = InputShape.Channels, kBack = BackwardPatchSize;
        var backLowering = new Lowering(OutputShape, InputShape.Height, InputShape.Width, KernelSize, KernelSize - 1 - PadBefore);
        int inputRows = batch * backLowering.PixelsPerImage;
        float[] flipped = _flippedWeights;
        BatchParallel.For(inputRows, outputGradient, default, inputGradient, (worker, dy, _, dx, start, end) =>
        {
            float[] patches = _patches[worker];
            for (int first = start; first < end; first += ChunkRows)
            {
                int rows = Math.Min(ChunkRows, end - first);
                backLowering.Lower(dy, first, rows, patches);
                Gemm.Multiply(Transpose.No, Transpose.No, rows, inChannels, kBack, 1f, patches, kBack, flipped, inChannels, 0f,
                    dx.Slice(first * inChannels, rows * inChannels), inChannels, threads: 1);
            }
        });
    }

    /// <summary>W'[(k−1−ky, k−1−kx, co), ci] = W[(ky, kx, ci), co]: the kernel that maps dOut back to dX.</summary>
    private void FlipWeights()
    {
        int kernel = KernelSize, inChannels = InputShape.Channels, filters = Filters;
        float[] w = _weights.Value, flipped = _flippedWeights;
        for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
                for (int ci = 0; ci < inChannels; ci++)
                    for (int co = 0; co < filters; co++)
                        flipped[(((kernel - 1 - ky) * kernel + (kernel - 1 - kx)) * filters + co) * inChannels + ci] =
                            w[((ky * kernel + kx) * inChannels + ci) * filters + co];
    }

    /// <summary>Lowering of a batch of HWC images to patch rows, one row per output pixel across the batch.</summary>
    private readonly struct Lowering(TensorShape source, int outHeight, int outWidth, int kernel, int pad)
    {
        public int PixelsPerImage => outHeight * outWidth;

        public void Lower(ReadOnlySpan<float> images, int firstRow, int rows, Span<float> patches)
        {
            int imageSize = source.Size, patch = kernel * kernel * source.Channels, perImage = PixelsPerImage;
            int row = firstRow, written = 0;
            while (written < rows)
            {
                int image = row / perImage, pixel = row % perImage;
                int count = Math.Min(rows - written, perImage - pixel);
                ChannelsLastLowering.Im2Col(images.Slice(image * imageSize, imageSize), source.Height, source.Width, source.Channels,
                    kernel, pad, outHeight, outWidth, pixel, count, patches.Slice(written * patch, count * patch));
                row += count;
                written += count;
            }
        }
    }
}
