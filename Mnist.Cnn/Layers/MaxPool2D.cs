using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mnist.Cnn.Layers;

/// <summary>Max pooling over non-overlapping pool×pool windows (stride = pool; a trailing odd row/column is dropped, as in Keras).</summary>
/// <remarks>
/// Channels-last lets a window be compared a whole vector of channels at a time; the winner of each output (the first
/// maximum in window order) is kept as its place in the window, two bytes per output, for the backward pass, which
/// then writes every input gradient once (the winner's dy, zeros around it) instead of clearing and scattering.
/// Samples run in parallel.
/// </remarks>
public sealed class MaxPool2D(int pool = 2) : Layer
{
    private ushort[] _winners = []; // per output element: the winner's place in its window, py·Pool + px
    private int[] _offsets = [];    // per place in a window: its distance in the image from the window's first element

    public int Pool { get; } = pool > 0 ? pool : throw new ArgumentOutOfRangeException(nameof(pool));
    public override string Describe() => $"MaxPool2D {Pool}×{Pool}";

    protected override TensorShape ComputeOutputShape(TensorShape input)
    {
        if (input.Height < Pool || input.Width < Pool) throw new ArgumentException($"A {Pool}×{Pool} pool does not fit a {input} input.");
        if (Pool > 256) throw new ArgumentException($"A {Pool}×{Pool} pool is larger than 256×256.");
        return new TensorShape(input.Height / Pool, input.Width / Pool, input.Channels);
    }

    protected override void Initialize(Random random)
    {
        _offsets = new int[Pool * Pool];
        for (int k = 0; k < _offsets.Length; k++) _offsets[k] = (k / Pool * InputShape.Width + k % Pool) * InputShape.Channels;
    }

    public override void EnsureCapacity(int maxBatch)
    {
        if (_winners.Length < maxBatch * OutputShape.Size) _winners = new ushort[maxBatch * OutputShape.Size];
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        EnsureCapacity(batch);
        int inSize = InputShape.Size, outSize = OutputShape.Size;
        ushort[] winners = _winners;
        BatchParallel.For(batch, input, default, output, (x, _, y, start, end) =>
        {
            for (int b = start; b < end; b++)
                PoolImage(x.Slice(b * inSize, inSize), y.Slice(b * outSize, outSize), winners.AsSpan(b * outSize, outSize));
        });
    }

    /// <summary>Where the first element of output (oy, ox)'s window is in the image, channel 0.</summary>
    private int WindowStart(int oy, int ox) => (oy * Pool * InputShape.Width + ox * Pool) * InputShape.Channels;

    private int VectorChannels => Avx512F.IsSupported ? InputShape.Channels - InputShape.Channels % Vector512<float>.Count : 0;

    private void PoolImage(ReadOnlySpan<float> image, Span<float> pooled, Span<ushort> winners)
    {
        int channels = InputShape.Channels, window = Pool * Pool;
        int outHeight = OutputShape.Height, outWidth = OutputShape.Width, vectorChannels = VectorChannels;
        ReadOnlySpan<int> offsets = _offsets;
        for (int oy = 0; oy < outHeight; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int outBase = (oy * outWidth + ox) * channels;
                int first = WindowStart(oy, ox);
                for (int c = 0; c < vectorChannels; c += Vector512<float>.Count)
                {
                    var best = Vector512.Create(image.Slice(first + c, Vector512<float>.Count));
                    var bestPlace = Vector512<uint>.Zero;
                    for (int k = 1; k < window; k++)
                    {
                        var candidate = Vector512.Create(image.Slice(first + offsets[k] + c, Vector512<float>.Count));
                        var greater = Vector512.GreaterThan(candidate, best);
                        best = Vector512.ConditionalSelect(greater, candidate, best);
                        bestPlace = Vector512.ConditionalSelect(greater.AsUInt32(), Vector512.Create((uint)k), bestPlace);
                    }
                    best.CopyTo(pooled.Slice(outBase + c, Vector512<float>.Count));
                    Avx512F.ConvertToVector256UInt16(bestPlace).CopyTo(winners.Slice(outBase + c, Vector512<float>.Count));
                }
                for (int c = vectorChannels; c < channels; c++)
                {
                    float best = image[first + c];
                    int bestPlace = 0;
                    for (int k = 1; k < window; k++)
                    {
                        float candidate = image[first + offsets[k] + c];
                        if (candidate > best)
                        {
                            best = candidate;
                            bestPlace = k;
                        }
                    }
                    pooled[outBase + c] = best;
                    winners[outBase + c] = (ushort)bestPlace;
                }
            }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int inSize = InputShape.Size, outSize = OutputShape.Size;
        ushort[] winners = _winners;
        // The gradient flows only to the input that won each window.
        BatchParallel.For(batch, outputGradient, default, inputGradient, (dy, _, dx, start, end) =>
        {
            for (int b = start; b < end; b++)
                UnpoolImage(dy.Slice(b * outSize, outSize), winners.AsSpan(b * outSize, outSize), dx.Slice(b * inSize, inSize));
        });
    }

    /// <summary>Every input gradient of one image, written once: dy at each window's winner, 0 elsewhere (and in a dropped trailing row or column).</summary>
    private void UnpoolImage(ReadOnlySpan<float> dy, ReadOnlySpan<ushort> winners, Span<float> dx)
    {
        int channels = InputShape.Channels, window = Pool * Pool;
        int outHeight = OutputShape.Height, outWidth = OutputShape.Width, vectorChannels = VectorChannels;
        ReadOnlySpan<int> offsets = _offsets;
        if (outHeight * Pool != InputShape.Height || outWidth * Pool != InputShape.Width) dx.Clear();
        for (int oy = 0; oy < outHeight; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int outBase = (oy * outWidth + ox) * channels, first = WindowStart(oy, ox);
                for (int c = 0; c < vectorChannels; c += Vector512<float>.Count)
                {
                    var gradient = Vector512.Create(dy.Slice(outBase + c, Vector512<float>.Count));
                    var place = Avx512F.ConvertToVector512UInt32(Vector256.Create(winners.Slice(outBase + c, Vector512<float>.Count)));
                    for (int k = 0; k < window; k++)
                        (Vector512.Equals(place, Vector512.Create((uint)k)).AsSingle() & gradient)
                            .CopyTo(dx.Slice(first + offsets[k] + c, Vector512<float>.Count));
                }
                for (int c = vectorChannels; c < channels; c++)
                    for (int k = 0; k < window; k++)
                        dx[first + offsets[k] + c] = winners[outBase + c] == k ? dy[outBase + c] : 0f;
            }
    }
}
