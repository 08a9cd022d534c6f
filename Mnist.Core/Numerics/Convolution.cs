using System.Runtime.Intrinsics;

namespace Mnist.Core.Numerics;

/// <summary>
/// A stride-1 convolution of channels-last (HWC) images: <see cref="Kernel"/>×<see cref="Kernel"/> taps over
/// <see cref="Channels"/> input channels to <see cref="Filters"/> output channels; output pixel (oy, ox) reads input
/// (oy − Pad + ky, ox − Pad + kx), zero outside the image. 'same' is Pad = (k − 1)/2 with the input size out,
/// 'valid' Pad = 0 with (H − k + 1) × (W − k + 1) out. Weights are ((ky·k + kx)·C + c) × Filters, row-major.
/// </summary>
internal readonly record struct ConvolutionShape(int Height, int Width, int Channels, int Kernel, int Pad, int OutHeight, int OutWidth, int Filters)
{
    public int InputSize => Height * Width * Channels;
    public int OutputSize => OutHeight * OutWidth * Filters;

    /// <summary>Rows of the weight matrix: k·k·C.</summary>
    public int Taps => Kernel * Kernel * Channels;

    /// <summary>
    /// The convolution that maps the output gradient back to the input gradient: dX = dOut ⋆ flip(W), a 'full'-style
    /// convolution of the Filters-channel output with padding k − 1 − Pad.
    /// </summary>
    public ConvolutionShape Transposed => new(OutHeight, OutWidth, Filters, Kernel, Kernel - 1 - Pad, Height, Width, Channels);

    internal int PaddedHeight => OutHeight + Kernel - 1;
    internal int PaddedWidth => OutWidth + Kernel - 1;

    /// <summary>Written out by hand: the record's generated text would print <see cref="Transposed"/>, whose own would recurse without end.</summary>
    public override string ToString() =>
        $"{Height}×{Width}×{Channels} → {OutHeight}×{OutWidth}×{Filters}, {Kernel}×{Kernel} kernel, pad {Pad}";

    internal void Validate()
    {
        if (Height <= 0 || Width <= 0 || Channels <= 0 || Kernel <= 0 || OutHeight <= 0 || OutWidth <= 0 || Filters <= 0)
            throw new ArgumentOutOfRangeException(nameof(ConvolutionShape), $"Every size of the convolution {this} must be positive.");
        if (Pad < 0 || Pad >= Kernel) throw new ArgumentOutOfRangeException(nameof(ConvolutionShape), $"Pad {Pad} is outside 0..{Kernel - 1}.");
    }
}

/// <summary>
/// Direct convolution on channels-last images: forward, input gradient and weight gradient, each a register-tiled
/// implicit GEMM (the GEMM micro-kernel, <see cref="GemmKernels{TOps,TVec}.Tile"/>, run over kernel or output rows) over a zero-padded copy of one image at a time, so no
/// lowered patch matrix is ever written. The input gradient of a stride-1 convolution is itself a convolution — of
/// the output gradient with the spatially flipped, channel-transposed kernel — so it runs the forward kernel.
/// </summary>
/// <remarks>
/// Images are split between at most <c>threads</c> threads (<see cref="ComputeSettings.Threads"/> when ≤ 0). Every
/// output sums its products in an order fixed by the shape: the forward and input gradient are per image, and the
/// weight gradient sums images in fixed chunks (<see cref="WeightGradientChunks"/>) added in chunk order, so all
/// three are bit-identical for any thread count. No allocation per call once the scratch buffers have grown.
/// <see cref="ReferenceConvolution"/> is the slow twin the tests compare against.
/// </remarks>
internal static class Convolution
{
    /// <summary>Most image chunks of the weight gradient: each is summed on one thread into its own partial gradient.</summary>
    internal const int WeightGradientChunks = 8;

    /// <summary>output = conv(images, weights) + bias for <paramref name="batch"/> images (bias may be empty: none).</summary>
    public static void Forward(in ConvolutionShape shape, ReadOnlySpan<float> images, int batch, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, Span<float> output, int threads = 0, ConvolutionAlgorithm algorithm = ConvolutionAlgorithm.Auto) =>
        Forward(Gemm.DefaultIsa, shape, images, batch, weights, bias, output, threads, algorithm);

    /// <summary>inputGradient = d(loss)/d(input) from the output gradient: the transposed convolution with flipped weights.</summary>
    public static void InputGradient(in ConvolutionShape shape, ReadOnlySpan<float> outputGradient, int batch, ReadOnlySpan<float> weights,
        Span<float> inputGradient, int threads = 0, ConvolutionAlgorithm algorithm = ConvolutionAlgorithm.Auto) =>
        InputGradient(Gemm.DefaultIsa, shape, outputGradient, batch, weights, inputGradient, threads, algorithm);

    /// <summary>Overwrites weightGradient (Taps × Filters) and biasGradient (Filters; may be empty) with their sums over the batch.</summary>
    public static void WeightGradient(in ConvolutionShape shape, ReadOnlySpan<float> images, ReadOnlySpan<float> outputGradient, int batch,
        Span<float> weightGradient, Span<float> biasGradient, int threads = 0, ConvolutionAlgorithm algorithm = ConvolutionAlgorithm.Auto) =>
        WeightGradient(Gemm.DefaultIsa, shape, images, outputGradient, batch, weightGradient, biasGradient, threads, algorithm);

    internal static unsafe void Forward(GemmIsa isa, in ConvolutionShape shape, ReadOnlySpan<float> images, int batch, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, Span<float> output, int threads = 0, ConvolutionAlgorithm algorithm = ConvolutionAlgorithm.Auto)
    {
        shape.Validate();
        CheckLength(nameof(images), images.Length, (long)batch * shape.InputSize);
        CheckLength(nameof(weights), weights.Length, (long)shape.Taps * shape.Filters);
        if (!bias.IsEmpty) CheckLength(nameof(bias), bias.Length, shape.Filters);
        CheckLength(nameof(output), output.Length, (long)batch * shape.OutputSize);
        if (batch == 0) return;
        fixed (float* x = images, w = weights, b = bias, y = output)
        {
            if (UseWinograd(shape, algorithm))
                WinogradJob.ForCurrentThread.Forward(isa, shape, x, batch, w, flip: false, bias.IsEmpty ? null : b, y, ComputeSettings.Resolve(threads));
            else
                ConvolutionJob.ForCurrentThread.Forward(isa, shape, x, batch, w, flip: false, bias.IsEmpty ? null : b, y, ComputeSettings.Resolve(threads));
        }
    }

    internal static unsafe void InputGradient(GemmIsa isa, in ConvolutionShape shape, ReadOnlySpan<float> outputGradient, int batch, ReadOnlySpan<float> weights,
        Span<float> inputGradient, int threads = 0, ConvolutionAlgorithm algorithm = ConvolutionAlgorithm.Auto)
    {
        shape.Validate();
        CheckLength(nameof(outputGradient), outputGradient.Length, (long)batch * shape.OutputSize);
        CheckLength(nameof(weights), weights.Length, (long)shape.Taps * shape.Filters);
        CheckLength(nameof(inputGradient), inputGradient.Length, (long)batch * shape.InputSize);
        if (batch == 0) return;
        fixed (float* dy = outputGradient, w = weights, dx = inputGradient)
        {
            if (UseWinograd(shape.Transposed, algorithm))
                WinogradJob.ForCurrentThread.Forward(isa, shape.Transposed, dy, batch, w, flip: true, null, dx, ComputeSettings.Resolve(threads));
            else
                ConvolutionJob.ForCurrentThread.Forward(isa, shape.Transposed, dy, batch, w, flip: true, null, dx, ComputeSettings.Resolve(threads));
        }
    }

    internal static unsafe void WeightGradient(GemmIsa isa, in ConvolutionShape shape, ReadOnlySpan<float> images, ReadOnlySpan<float> outputGradient, int batch,
        Span<float> weightGradient, Span<float> biasGradient, int threads = 0, ConvolutionAlgorithm algorithm = ConvolutionAlgorithm.Auto)
    {
        shape.Validate();
        CheckLength(nameof(images), images.Length, (long)batch * shape.InputSize);
        CheckLength(nameof(outputGradient), outputGradient.Length, (long)batch * shape.OutputSize);
        CheckLength(nameof(weightGradient), weightGradient.Length, (long)shape.Taps * shape.Filters);
        if (!biasGradient.IsEmpty) CheckLength(nameof(biasGradient), biasGradient.Length, shape.Filters);
        if (batch == 0)
        {
            weightGradient[..(shape.Taps * shape.Filters)].Clear();
            if (!biasGradient.IsEmpty) biasGradient[..shape.Filters].Clear();
            return;
        }
        fixed (float* x = images, dy = outputGradient, dw = weightGradient, db = biasGradient)
        {
            if (UseWinograd(shape, algorithm))
                WinogradJob.ForCurrentThread.WeightGradient(isa, shape, x, dy, batch, dw, biasGradient.IsEmpty ? null : db, ComputeSettings.Resolve(threads));
            else
                ConvolutionJob.ForCurrentThread.WeightGradient(isa, shape, x, dy, batch, dw, biasGradient.IsEmpty ? null : db, ComputeSettings.Resolve(threads));
        }
    }

    private static bool UseWinograd(in ConvolutionShape shape, ConvolutionAlgorithm algorithm) => algorithm switch
    {
        ConvolutionAlgorithm.Direct => false,
        ConvolutionAlgorithm.Winograd => WinogradConvolution.Supports(shape)
            ? true : throw new ArgumentException($"Winograd (F(4×4, 5×5) or F(4×4, 3×3)) does not fit the convolution {shape}.", nameof(algorithm)),
        _ => WinogradConvolution.Supports(shape),
    };

    private static void CheckLength(string name, int length, long needed)
    {
        if (length < needed) throw new ArgumentException($"{name} holds {length} floats; the convolution needs {needed}.", name);
    }

    /// <summary>
    /// Packs the weights of the convolution whose transposed shape is <paramref name="t"/> as that transposed
    /// convolution's weights: W'[(k−1−ky, k−1−kx, f), c] = W[(ky, kx, c), f] (t.Channels = f, t.Filters = c).
    /// </summary>
    internal static unsafe void PackFlipped(in ConvolutionShape t, float* w, float* dst, int fs)
    {
        int k = t.Kernel, filters = t.Channels, channels = t.Filters;
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int f = 0; f < filters; f++)
                {
                    float* row = dst + (nint)(((k - 1 - ky) * k + (k - 1 - kx)) * filters + f) * fs;
                    float* source = w + (nint)(ky * k + kx) * channels * filters + f;
                    for (int c = 0; c < channels; c++) row[c] = source[(nint)c * filters];
                    for (int c = channels; c < fs; c++) row[c] = 0f;
                }
    }

    /// <summary>Row stride of packed weights and gradients: the filters rounded up to whole vectors of any instruction set.</summary>
    internal static int FilterStride(int filters) => (filters + 15) / 16 * 16;

    /// <summary>Floats of a padded image (with one vector of slack: the last vector of a tile may read past its run).</summary>
    internal static long PaddedLength(in ConvolutionShape shape) => (long)shape.PaddedHeight * shape.PaddedWidth * shape.Channels + 16;

    /// <summary>
    /// Copies one image into <paramref name="padded"/> (PaddedHeight × PaddedWidth × C, then 16 zeros): padded pixel
    /// (py, px) is input (py − Pad, px − Pad), zero outside the image.
    /// </summary>
    internal static unsafe void PadImage(in ConvolutionShape s, float* image, float* padded)
    {
        int c = s.Channels, wp = s.PaddedWidth, hp = s.PaddedHeight;
        int left = Math.Min(s.Pad, wp), copied = Math.Clamp(wp - s.Pad, 0, s.Width);
        for (int py = 0; py < hp; py++)
        {
            float* row = padded + (nint)py * wp * c;
            int iy = py - s.Pad;
            if ((uint)iy >= (uint)s.Height)
            {
                new Span<float>(row, wp * c).Clear();
                continue;
            }
            new Span<float>(row, left * c).Clear();
            new ReadOnlySpan<float>(image + (nint)iy * s.Width * c, copied * c).CopyTo(new Span<float>(row + left * c, copied * c));
            new Span<float>(row + (left + copied) * c, (wp - left - copied) * c).Clear();
        }
        new Span<float>(padded + (nint)hp * wp * c, 16).Clear();
    }
}

/// <summary>
/// What the convolution jobs share: the instruction-set switch of each part, and the in-order sum of the weight
/// gradient's chunk partials.
/// </summary>
internal abstract unsafe class ConvolutionPartsJob : IParallelJob
{
    protected GemmIsa Isa;
    protected bool WeightGradientMode;

    public void Execute(int part)
    {
        switch (Isa)
        {
            case GemmIsa.Avx512: Execute<Avx512Ops, Vector512<float>>(part); break;
            case GemmIsa.Avx2: Execute<Avx2Ops, Vector256<float>>(part); break;
            default: Execute<ScalarOps, float>(part); break;
        }
    }

    private void Execute<TOps, TVec>(int part)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        if (WeightGradientMode) WeightGradientChunk<TOps, TVec>(part);
        else ForwardPart<TOps, TVec>(part);
    }

    /// <summary>One part of the forward (or input gradient): one image, or a few for <see cref="WinogradJob"/>.</summary>
    protected abstract void ForwardPart<TOps, TVec>(int part)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct;

    protected abstract void WeightGradientChunk<TOps, TVec>(int chunk)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct;

    /// <summary>Adds chunks 1.. onto chunk 0 in chunk order, so the sum does not depend on which thread took which chunk; returns chunk 0.</summary>
    protected static Span<float> AddChunksInOrder(float* partials, int chunks, long chunkLength)
    {
        var total = new Span<float>(partials, (int)chunkLength);
        for (int chunk = 1; chunk < chunks; chunk++)
            System.Numerics.Tensors.TensorPrimitives.Add(total, new ReadOnlySpan<float>(partials + chunk * chunkLength, (int)chunkLength), total);
        return total;
    }
}

/// <summary>One convolution call's plan and shared inputs; one instance per calling thread is reused, so a call allocates nothing.</summary>
internal sealed unsafe class ConvolutionJob : ConvolutionPartsJob
{
    [ThreadStatic] private static ConvolutionJob? t_job;
    [ThreadStatic] private static ScratchBuffer? t_image;

    public static ConvolutionJob ForCurrentThread => t_job ??= new ConvolutionJob();

    /// <summary>This thread's padded image (and, for filter counts that are not whole vectors, a padded copy of the output gradient).</summary>
    private static ScratchBuffer ImageScratch => t_image ??= new ScratchBuffer();

    private readonly ScratchBuffer _weights = new();
    private readonly ScratchBuffer _partials = new();
    private ConvolutionShape _shape;
    private float* _input, _outputGradient, _output, _packedWeights, _packedBias;
    private int _batch, _chunks, _filterStride;

    // ---------------------------------------------------------------- forward (and input gradient)

    /// <summary>Records the call's common inputs; returns the filter stride.</summary>
    private int Begin(bool weightGradient, GemmIsa isa, in ConvolutionShape shape, float* input, int batch)
    {
        WeightGradientMode = weightGradient;
        Isa = isa;
        _shape = shape;
        _input = input;
        _batch = batch;
        return _filterStride = Convolution.FilterStride(shape.Filters);
    }

    public void Forward(GemmIsa isa, in ConvolutionShape shape, float* input, int batch, float* weights, bool flip, float* bias, float* output, int threads)
    {
        int fs = Begin(weightGradient: false, isa, shape, input, batch);
        _output = output;
        _packedWeights = _weights.Get((long)shape.Taps * fs + fs);
        if (flip) Convolution.PackFlipped(shape, weights, _packedWeights, fs);
        else PackRows(weights, shape.Taps, shape.Filters, _packedWeights, fs);
        _packedBias = null;
        if (bias != null)
        {
            _packedBias = _packedWeights + (nint)shape.Taps * fs;
            PackRows(bias, 1, shape.Filters, _packedBias, fs);
        }
        ParallelRunner.Run(this, batch, threads);
    }

    /// <summary>dst[r·fs + f] = src[r·n + f], zero for f ≥ n.</summary>
    private static void PackRows(float* src, int rows, int n, float* dst, int fs)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(src + (nint)r * n, n).CopyTo(new Span<float>(dst + (nint)r * fs, n));
            new Span<float>(dst + (nint)r * fs + n, fs - n).Clear();
        }
    }

    protected override void ForwardPart<TOps, TVec>(int image)
    {
        ref readonly ConvolutionShape s = ref _shape;
        float* padded = ImageScratch.Get(Convolution.PaddedLength(s));
        Convolution.PadImage(s, _input + (nint)image * s.InputSize, padded);
        float* output = _output + (nint)image * s.OutputSize;
        int pixels = s.OutHeight * s.OutWidth;
        // With a bias the tiles add onto it (β = 1): out = b + Σ, the bias written first.
        if (_packedBias != null)
        {
            // One pixel's bias, then copies of what is written so far (doubling): a few long copies, not one per pixel.
            new ReadOnlySpan<float>(_packedBias, s.Filters).CopyTo(new Span<float>(output, s.Filters));
            for (int done = 1; done < pixels; done *= 2)
            {
                int count = Math.Min(done, pixels - done) * s.Filters;
                new ReadOnlySpan<float>(output, count).CopyTo(new Span<float>(output + (nint)done * s.Filters, count));
            }
        }
        var scale = new TileScale(1f, _packedBias != null ? 1f : 0f);
        int w = TOps.Width, fs = _filterStride, run = s.Kernel * s.Channels, mr = GemmKernels<TOps, TVec>.MR;
        nint rowStride = (nint)s.PaddedWidth * s.Channels;
        int vectors = (s.Filters + w - 1) / w, groups = (vectors + TOps.MaxTileVectors - 1) / TOps.MaxTileVectors;
        int tiles = (s.OutWidth + mr - 1) / mr;
        for (int group = 0; group < groups; group++)
        {
            // Filter groups of as even a number of vectors as possible (5 vectors: 3 + 2, not 4 + 1).
            int v0 = vectors * group / groups, tn = vectors * (group + 1) / groups - v0, f0 = v0 * w;
            int lastCols = Math.Min(w, s.Filters - f0 - (tn - 1) * w);
            for (int oy = 0; oy < s.OutHeight; oy++)
                for (int tile = 0; tile < tiles; tile++)
                {
                    // Pixel tiles of one output row, sizes as even as possible (28 = 6 + 6 + 6 + 5 + 5). A tile's rows are
                    // its pixels (stride C in the padded image), its k steps the run of one kernel row, one slice per row.
                    int ox0 = s.OutWidth * tile / tiles, tm = s.OutWidth * (tile + 1) / tiles - ox0;
                    GemmKernels<TOps, TVec>.TileAny(tm, tn, run, padded + (oy * rowStride + (nint)ox0 * s.Channels), s.Channels, 1,
                        _packedWeights + f0, fs, output + ((nint)oy * s.OutWidth + ox0) * s.Filters + f0, s.Filters, lastCols, scale,
                        slices: s.Kernel, sliceStride: rowStride);
                }
        }
    }

    // ---------------------------------------------------------------- weight gradient

    public void WeightGradient(GemmIsa isa, in ConvolutionShape shape, float* input, float* outputGradient, int batch, float* weightGradient, float* biasGradient, int threads)
    {
        int fs = Begin(weightGradient: true, isa, shape, input, batch);
        _outputGradient = outputGradient;
        _chunks = Math.Min(batch, Convolution.WeightGradientChunks);
        long chunkLength = (long)(shape.Taps + 1) * fs; // the weight rows, then the bias row
        _output = _partials.Get(_chunks * chunkLength);
        ParallelRunner.Run(this, _chunks, threads);

        var total = AddChunksInOrder(_output, _chunks, chunkLength);
        for (int t = 0; t < shape.Taps; t++)
            total.Slice(t * fs, shape.Filters).CopyTo(new Span<float>(weightGradient + (nint)t * shape.Filters, shape.Filters));
        if (biasGradient != null) total.Slice(shape.Taps * fs, shape.Filters).CopyTo(new Span<float>(biasGradient, shape.Filters));
    }

    protected override void WeightGradientChunk<TOps, TVec>(int chunk)
    {
        ref readonly ConvolutionShape s = ref _shape;
        int fs = _filterStride, w = TOps.Width;
        float* g = _output + chunk * (long)(s.Taps + 1) * fs;
        float* biasRow = g + (nint)s.Taps * fs;
        new Span<float>(g, (s.Taps + 1) * fs).Clear();

        // The output gradient is read a whole vector at a time; when the filters are not whole vectors it is copied
        // to rows of fs floats first, so no load runs past the end of an image.
        bool copyGradient = s.Filters % w != 0;
        long paddedLength = Convolution.PaddedLength(s);
        float* padded = ImageScratch.Get(paddedLength + (copyGradient ? (long)s.OutHeight * s.OutWidth * fs : 0));
        float* gradientCopy = padded + paddedLength;

        int run = s.Kernel * s.Channels, pixels = s.OutHeight * s.OutWidth;
        nint rowStride = (nint)s.PaddedWidth * s.Channels;
        int vectors = (s.Filters + w - 1) / w, groups = (vectors + TOps.MaxTileVectors - 1) / TOps.MaxTileVectors;
        int mr = GemmKernels<TOps, TVec>.MR, tapTiles = (run + mr - 1) / mr;
        var accumulate = new TileScale(1f, 1f);
        int first = (int)((long)_batch * chunk / _chunks), last = (int)((long)_batch * (chunk + 1) / _chunks);
        for (int image = first; image < last; image++)
        {
            Convolution.PadImage(s, _input + (nint)image * s.InputSize, padded);
            float* dy = _outputGradient + (nint)image * s.OutputSize;
            nint ds = s.Filters;
            if (copyGradient)
            {
                PackRows(dy, pixels, s.Filters, gradientCopy, fs);
                dy = gradientCopy;
                ds = fs;
            }
            SumRows<TOps, TVec>(dy, pixels, ds, s.Filters, biasRow);
            for (int group = 0; group < groups; group++)
            {
                int v0 = vectors * group / groups, tn = vectors * (group + 1) / groups - v0, f0 = v0 * w;
                int lastCols = Math.Min(w, s.Filters - f0 - (tn - 1) * w);
                for (int ky = 0; ky < s.Kernel; ky++)
                    for (int tile = 0; tile < tapTiles; tile++)
                    {
                        // A tile's rows are consecutive taps of kernel row ky (stride 1), its k steps the pixels of an
                        // output row (stride C), one slice per output row; dOut rows continue across the slices.
                        int j0 = run * tile / tapTiles, tm = run * (tile + 1) / tapTiles - j0;
                        GemmKernels<TOps, TVec>.TileAny(tm, tn, s.OutWidth, padded + (ky * rowStride + j0), 1, s.Channels,
                            dy + f0, ds, g + ((nint)ky * run + j0) * fs + f0, fs, lastCols, accumulate,
                            slices: s.OutHeight, sliceStride: rowStride);
                    }
            }
        }
    }

    /// <summary>sum[f] += Σ_r d[r·ds + f] for f &lt; n, in row order.</summary>
    internal static void SumRows<TOps, TVec>(float* d, int rows, nint ds, int n, float* sum)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Width, f = 0;
        for (; f + w <= n; f += w)
        {
            TVec acc = TOps.Zero;
            for (int r = 0; r < rows; r++) acc = TOps.Add(acc, TOps.Load(d + r * ds + f));
            TOps.Store(sum + f, TOps.Add(TOps.Load(sum + f), acc));
        }
        for (; f < n; f++)
        {
            float acc = 0f;
            for (int r = 0; r < rows; r++) acc += d[r * ds + f];
            sum[f] += acc;
        }
    }
}

/// <summary>The slow, obviously-correct twin of <see cref="Convolution"/> that the tests compare against: direct loops, double sums.</summary>
internal static class ReferenceConvolution
{
    public static void Forward(in ConvolutionShape s, ReadOnlySpan<float> images, int batch, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        for (int n = 0; n < batch; n++)
            for (int oy = 0; oy < s.OutHeight; oy++)
                for (int ox = 0; ox < s.OutWidth; ox++)
                    for (int f = 0; f < s.Filters; f++)
                    {
                        double sum = bias.IsEmpty ? 0 : bias[f];
                        for (int ky = 0; ky < s.Kernel; ky++)
                            for (int kx = 0; kx < s.Kernel; kx++)
                            {
                                int iy = oy - s.Pad + ky, ix = ox - s.Pad + kx;
                                if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width) continue;
                                for (int c = 0; c < s.Channels; c++)
                                    sum += (double)images[n * s.InputSize + (iy * s.Width + ix) * s.Channels + c] * weights[((ky * s.Kernel + kx) * s.Channels + c) * s.Filters + f];
                            }
                        output[n * s.OutputSize + (oy * s.OutWidth + ox) * s.Filters + f] = (float)sum;
                    }
    }

    /// <summary>dX[iy, ix, c] = Σ dOut[oy, ox, f]·W[ky, kx, c, f] over the output pixels whose window holds (iy, ix): a scatter, not a flip.</summary>
    public static void InputGradient(in ConvolutionShape s, ReadOnlySpan<float> outputGradient, int batch, ReadOnlySpan<float> weights, Span<float> inputGradient)
    {
        var sums = new double[s.InputSize];
        for (int n = 0; n < batch; n++)
        {
            Array.Clear(sums);
            for (int oy = 0; oy < s.OutHeight; oy++)
                for (int ox = 0; ox < s.OutWidth; ox++)
                    for (int ky = 0; ky < s.Kernel; ky++)
                        for (int kx = 0; kx < s.Kernel; kx++)
                        {
                            int iy = oy - s.Pad + ky, ix = ox - s.Pad + kx;
                            if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width) continue;
                            for (int c = 0; c < s.Channels; c++)
                                for (int f = 0; f < s.Filters; f++)
                                    sums[(iy * s.Width + ix) * s.Channels + c] += (double)outputGradient[n * s.OutputSize + (oy * s.OutWidth + ox) * s.Filters + f]
                                                                                   * weights[((ky * s.Kernel + kx) * s.Channels + c) * s.Filters + f];
                        }
            for (int i = 0; i < s.InputSize; i++) inputGradient[n * s.InputSize + i] = (float)sums[i];
        }
    }

    public static void WeightGradient(in ConvolutionShape s, ReadOnlySpan<float> images, ReadOnlySpan<float> outputGradient, int batch, Span<float> weightGradient, Span<float> biasGradient)
    {
        for (int ky = 0; ky < s.Kernel; ky++)
            for (int kx = 0; kx < s.Kernel; kx++)
                for (int c = 0; c < s.Channels; c++)
                    for (int f = 0; f < s.Filters; f++)
                    {
                        double sum = 0;
                        for (int n = 0; n < batch; n++)
                            for (int oy = 0; oy < s.OutHeight; oy++)
                                for (int ox = 0; ox < s.OutWidth; ox++)
                                {
                                    int iy = oy - s.Pad + ky, ix = ox - s.Pad + kx;
                                    if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width) continue;
                                    sum += (double)images[n * s.InputSize + (iy * s.Width + ix) * s.Channels + c] * outputGradient[n * s.OutputSize + (oy * s.OutWidth + ox) * s.Filters + f];
                                }
                        weightGradient[((ky * s.Kernel + kx) * s.Channels + c) * s.Filters + f] = (float)sum;
                    }
        if (biasGradient.IsEmpty) return;
        for (int f = 0; f < s.Filters; f++)
        {
            double sum = 0;
            for (int n = 0; n < batch; n++)
                for (int p = 0; p < s.OutHeight * s.OutWidth; p++) sum += outputGradient[n * s.OutputSize + p * s.Filters + f];
            biasGradient[f] = (float)sum;
        }
    }
}
