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
/// 2-D convolution, stride 1, NHWC, lowered to matrix products: each output pixel's k×k×Cin input
/// patch becomes a row of an im2col matrix (rows = pixels, K = k·k·Cin), so out = cols·W + b with W of
/// K × filters. The batch is split between workers; each lowers a few images at a time into its own
/// scratch buffer (bounded memory) and calls a single-threaded product, so lowering runs in parallel too.
/// </summary>
public sealed unsafe class Conv2D(int filters, int kernelSize, Padding padding = Padding.Same) : Layer
{
    /// <summary>Upper bound on one worker's im2col scratch, in floats (≈ 8 MB): a chunk of images stays cache-friendly.</summary>
    private const int ScratchFloats = 2 << 20;

    private Parameter _weights = null!;
    private Parameter _bias = null!;
    private float[][] _cols = [];          // per worker im2col scratch
    private float[][] _colGradients = [];  // per worker d(cols) scratch
    private float[][] _weightGradients = []; // per worker partial dW
    private float[][] _biasGradients = [];   // per worker partial db
    private int _chunkImages;

    public int Filters { get; } = filters > 0 ? filters : throw new ArgumentOutOfRangeException(nameof(filters));
    public int KernelSize { get; } = kernelSize > 0 ? kernelSize : throw new ArgumentOutOfRangeException(nameof(kernelSize));
    public Padding Padding { get; } = padding;
    public override string Describe() => $"Conv2D {Filters} {KernelSize}×{KernelSize} {Padding.ToString().ToLowerInvariant()}";
    public override IReadOnlyList<Parameter> Parameters => [_weights, _bias];

    private int PadTop => Padding == Padding.Same ? (KernelSize - 1) / 2 : 0;
    private int PatchSize => KernelSize * KernelSize * InputShape.Channels;
    private int OutputPixels => OutputShape.Height * OutputShape.Width;

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
        FillUniform(_weights.Value, Math.Sqrt(6.0 / PatchSize), random); // He-uniform for the ReLU that follows
    }

    public override void EnsureCapacity(int maxBatch)
    {
        int workers = WorkSplit.Workers(maxBatch);
        int perWorker = (maxBatch + workers - 1) / workers;
        int rowsPerImage = OutputPixels;
        _chunkImages = Math.Clamp(ScratchFloats / (rowsPerImage * PatchSize), 1, perWorker);
        int scratch = _chunkImages * rowsPerImage * PatchSize;
        if (_cols.Length == workers && _cols[0].Length >= scratch) return;
        _cols = new float[workers][];
        _colGradients = new float[workers][];
        _weightGradients = new float[workers][];
        _biasGradients = new float[workers][];
        for (int w = 0; w < workers; w++)
        {
            _cols[w] = new float[scratch];
            _colGradients[w] = new float[scratch];
            _weightGradients[w] = new float[PatchSize * Filters];
            _biasGradients[w] = new float[Filters];
        }
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        EnsureCapacity(batch);
        int inSize = InputShape.Size, outSize = OutputShape.Size, k = PatchSize, n = Filters;
        fixed (float* inputPointer = input, outputPointer = output)
        {
            nint inAddress = (nint)inputPointer, outAddress = (nint)outputPointer;
            WorkSplit.Run(batch, (worker, start, end) =>
            {
                float[] cols = _cols[worker];
                for (int first = start; first < end; first += _chunkImages)
                {
                    int images = Math.Min(_chunkImages, end - first);
                    int rows = images * OutputPixels;
                    var source = new ReadOnlySpan<float>((float*)inAddress + (long)first * inSize, images * inSize);
                    var destination = new Span<float>((float*)outAddress + (long)first * outSize, images * outSize);
                    for (int i = 0; i < images; i++)
                        Im2Col(source.Slice(i * inSize, inSize), cols.AsSpan(i * OutputPixels * k, OutputPixels * k));
                    Gemm.Multiply(Transpose.No, Transpose.No, rows, n, k, 1f, cols, k, _weights.Value, n, 0f, destination, n, threads: 1);
                    Kernels.AddBiasRows(destination, _bias.Value);
                }
            });
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        EnsureCapacity(batch);
        int inSize = InputShape.Size, outSize = OutputShape.Size, k = PatchSize, n = Filters;
        bool wantInput = !inputGradient.IsEmpty;
        int workers = WorkSplit.Workers(batch);
        fixed (float* inputPointer = input, gradientPointer = outputGradient, inputGradientPointer = inputGradient)
        {
            nint inAddress = (nint)inputPointer, gradAddress = (nint)gradientPointer, inGradAddress = (nint)inputGradientPointer;
            WorkSplit.Run(batch, (worker, start, end) =>
            {
                float[] cols = _cols[worker], colGradient = _colGradients[worker];
                float[] weightGradient = _weightGradients[worker], biasGradient = _biasGradients[worker];
                Array.Clear(weightGradient);
                Array.Clear(biasGradient);
                for (int first = start; first < end; first += _chunkImages)
                {
                    int images = Math.Min(_chunkImages, end - first);
                    int rows = images * OutputPixels;
                    var source = new ReadOnlySpan<float>((float*)inAddress + (long)first * inSize, images * inSize);
                    var dOut = new ReadOnlySpan<float>((float*)gradAddress + (long)first * outSize, images * outSize);
                    // The patches are recomputed rather than kept from the forward pass: cheap next to the products, and memory stays bounded.
                    for (int i = 0; i < images; i++)
                        Im2Col(source.Slice(i * inSize, inSize), cols.AsSpan(i * OutputPixels * k, OutputPixels * k));
                    // dW += colsᵀ·dOut ; db += Σ rows of dOut
                    Gemm.Multiply(Transpose.Yes, Transpose.No, k, n, rows, 1f, cols, k, dOut, n, 1f, weightGradient, n, threads: 1);
                    for (int r = 0; r < rows; r++) TensorPrimitives.Add(biasGradient, dOut.Slice(r * n, n), biasGradient);
                    if (!wantInput) continue;
                    // dCols = dOut·Wᵀ, then scatter-add the patches back to the input positions.
                    Gemm.Multiply(Transpose.No, Transpose.Yes, rows, k, n, 1f, dOut, n, _weights.Value, n, 0f, colGradient, k, threads: 1);
                    var dInput = new Span<float>((float*)inGradAddress + (long)first * inSize, images * inSize);
                    dInput.Clear();
                    for (int i = 0; i < images; i++)
                        Col2Im(colGradient.AsSpan(i * OutputPixels * k, OutputPixels * k), dInput.Slice(i * inSize, inSize));
                }
            });
        }
        // Sum the workers' partial gradients in a fixed order (deterministic for a given thread count).
        _weightGradients[0].CopyTo(_weights.Gradient, 0);
        _biasGradients[0].CopyTo(_bias.Gradient, 0);
        for (int w = 1; w < workers; w++)
        {
            TensorPrimitives.Add(_weights.Gradient, _weightGradients[w], _weights.Gradient);
            TensorPrimitives.Add(_bias.Gradient, _biasGradients[w], _bias.Gradient);
        }
    }

    /// <summary>One image (H×W×Cin) to its patch matrix (outputPixels × k·k·Cin); out-of-image taps are zero.</summary>
    private void Im2Col(ReadOnlySpan<float> image, Span<float> cols)
    {
        int height = InputShape.Height, width = InputShape.Width, channels = InputShape.Channels;
        int kernel = KernelSize, pad = PadTop, k = PatchSize;
        int outHeight = OutputShape.Height, outWidth = OutputShape.Width;
        for (int oy = 0; oy < outHeight; oy++)
        {
            for (int ox = 0; ox < outWidth; ox++)
            {
                Span<float> row = cols.Slice((oy * outWidth + ox) * k, k);
                for (int ky = 0; ky < kernel; ky++)
                {
                    int iy = oy + ky - pad;
                    Span<float> taps = row.Slice(ky * kernel * channels, kernel * channels);
                    if ((uint)iy >= (uint)height)
                    {
                        taps.Clear();
                        continue;
                    }
                    int ix0 = ox - pad;
                    int kxStart = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, width - ix0);
                    if (kxStart > 0) taps[..(kxStart * channels)].Clear();
                    if (kxEnd > kxStart)
                        image.Slice((iy * width + ix0 + kxStart) * channels, (kxEnd - kxStart) * channels)
                             .CopyTo(taps[(kxStart * channels)..]);
                    if (kxEnd < kernel) taps[(Math.Max(kxEnd, kxStart) * channels)..].Clear();
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds each patch entry back into the image position it came from.</summary>
    private void Col2Im(ReadOnlySpan<float> cols, Span<float> image)
    {
        int height = InputShape.Height, width = InputShape.Width, channels = InputShape.Channels;
        int kernel = KernelSize, pad = PadTop, k = PatchSize;
        int outHeight = OutputShape.Height, outWidth = OutputShape.Width;
        for (int oy = 0; oy < outHeight; oy++)
        {
            for (int ox = 0; ox < outWidth; ox++)
            {
                ReadOnlySpan<float> row = cols.Slice((oy * outWidth + ox) * k, k);
                for (int ky = 0; ky < kernel; ky++)
                {
                    int iy = oy + ky - pad;
                    if ((uint)iy >= (uint)height) continue;
                    int ix0 = ox - pad;
                    int kxStart = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, width - ix0);
                    if (kxEnd <= kxStart) continue;
                    int length = (kxEnd - kxStart) * channels;
                    Span<float> target = image.Slice((iy * width + ix0 + kxStart) * channels, length);
                    TensorPrimitives.Add(target, row.Slice((ky * kernel + kxStart) * channels, length), target);
                }
            }
        }
    }

    public override void WriteConfig(BinaryWriter writer)
    {
        writer.Write(nameof(Conv2D));
        writer.Write(Filters);
        writer.Write(KernelSize);
        writer.Write((int)Padding);
    }
}
