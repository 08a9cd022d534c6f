using System.Numerics.Tensors;
using Mnist.Core.Numerics;

namespace Mnist.Benchmarks;

/// <summary>
/// The convolution Conv2D ran before the direct kernels, kept here as the benchmark's baseline: output pixels
/// split between the workers, each lowering 256 pixels at a time (im2col, <see cref="ChannelsLastLowering"/>)
/// into an L2-sized scratch and multiplying it with a single-threaded GEMM; dW = patchesᵀ·dOut per worker, and
/// dX as the lowered convolution of dOut with the flipped kernel.
/// </summary>
internal sealed class LoweredConvolution
{
    private const int ChunkRows = 256;

    private readonly ConvolutionShape _shape;
    private readonly int _workers;
    private readonly float[][] _patches, _weightGradients, _biasGradients;
    private readonly float[] _flipped;

    public LoweredConvolution(ConvolutionShape shape, int maxBatch)
    {
        _shape = shape;
        _workers = Math.Max(1, Math.Min(ComputeSettings.Threads, maxBatch));
        int scratch = ChunkRows * shape.Kernel * shape.Kernel * Math.Max(shape.Channels, shape.Filters);
        _patches = Enumerable.Range(0, _workers).Select(_ => new float[scratch]).ToArray();
        _weightGradients = Enumerable.Range(0, _workers).Select(_ => new float[shape.Taps * shape.Filters]).ToArray();
        _biasGradients = Enumerable.Range(0, _workers).Select(_ => new float[shape.Filters]).ToArray();
        _flipped = new float[shape.Taps * shape.Filters];
    }

    private void Split(int rows, Action<int, int, int> body) =>
        Parallel.For(0, _workers, new ParallelOptions { MaxDegreeOfParallelism = _workers },
            w => body(w, (int)((long)rows * w / _workers), (int)((long)rows * (w + 1) / _workers)));

    public void Forward(float[] x, int batch, float[] weights, float[] bias, float[] y)
    {
        var s = _shape;
        int k = s.Taps, n = s.Filters;
        Split(batch * s.OutHeight * s.OutWidth, (worker, start, end) =>
        {
            float[] patches = _patches[worker];
            for (int first = start; first < end; first += ChunkRows)
            {
                int rows = Math.Min(ChunkRows, end - first);
                Lower(s, x, first, rows, patches);
                Span<float> destination = y.AsSpan(first * n, rows * n);
                Gemm.Multiply(Transpose.No, Transpose.No, rows, n, k, 1f, patches, k, weights, n, 0f, destination, n, threads: 1);
                Kernels.AddBiasRows(destination, bias);
            }
        });
    }

    public void WeightGradient(float[] x, float[] dy, int batch, float[] weightGradient, float[] biasGradient)
    {
        var s = _shape;
        int k = s.Taps, n = s.Filters;
        Split(batch * s.OutHeight * s.OutWidth, (worker, start, end) =>
        {
            float[] patches = _patches[worker], dw = _weightGradients[worker], db = _biasGradients[worker];
            Array.Clear(dw);
            Array.Clear(db);
            for (int first = start; first < end; first += ChunkRows)
            {
                int rows = Math.Min(ChunkRows, end - first);
                Lower(s, x, first, rows, patches);
                ReadOnlySpan<float> dOut = dy.AsSpan(first * n, rows * n);
                Gemm.Multiply(Transpose.Yes, Transpose.No, k, n, rows, 1f, patches, k, dOut, n, 1f, dw, n, threads: 1);
                for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, dOut.Slice(r * n, n), db);
            }
        });
        _weightGradients[0].CopyTo(weightGradient, 0);
        _biasGradients[0].CopyTo(biasGradient, 0);
        for (int w = 1; w < _workers; w++)
        {
            TensorPrimitives.Add(weightGradient, _weightGradients[w], weightGradient);
            TensorPrimitives.Add(biasGradient, _biasGradients[w], biasGradient);
        }
    }

    public void InputGradient(float[] dy, int batch, float[] weights, float[] dx)
    {
        var s = _shape;
        int kernel = s.Kernel;
        for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
                for (int ci = 0; ci < s.Channels; ci++)
                    for (int co = 0; co < s.Filters; co++)
                        _flipped[(((kernel - 1 - ky) * kernel + (kernel - 1 - kx)) * s.Filters + co) * s.Channels + ci] =
                            weights[((ky * kernel + kx) * s.Channels + ci) * s.Filters + co];
        var t = s.Transposed;
        int kBack = t.Taps, inChannels = s.Channels;
        Split(batch * s.Height * s.Width, (worker, start, end) =>
        {
            float[] patches = _patches[worker];
            for (int first = start; first < end; first += ChunkRows)
            {
                int rows = Math.Min(ChunkRows, end - first);
                Lower(t, dy, first, rows, patches);
                Gemm.Multiply(Transpose.No, Transpose.No, rows, inChannels, kBack, 1f, patches, kBack, _flipped, inChannels, 0f,
                    dx.AsSpan(first * inChannels, rows * inChannels), inChannels, threads: 1);
            }
        });
    }

    /// <summary>Patch rows of output pixels [firstRow, firstRow + rows) across the batch.</summary>
    private static void Lower(ConvolutionShape s, float[] images, int firstRow, int rows, float[] patches)
    {
        int perImage = s.OutHeight * s.OutWidth, patch = s.Taps;
        int row = firstRow, written = 0;
        while (written < rows)
        {
            int image = row / perImage, pixel = row % perImage;
            int count = Math.Min(rows - written, perImage - pixel);
            ChannelsLastLowering.Im2Col(images.AsSpan(image * s.InputSize, s.InputSize), s.Height, s.Width, s.Channels,
                s.Kernel, s.Pad, s.OutHeight, s.OutWidth, pixel, count, patches.AsSpan(written * patch, count * patch));
            row += count;
            written += count;
        }
    }
}
