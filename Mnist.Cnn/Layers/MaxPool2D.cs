using System.Runtime.Intrinsics;

namespace Mnist.Cnn.Layers;

/// <summary>Max pooling over non-overlapping pool×pool windows (stride = pool; a trailing odd row/column is dropped, as in Keras).</summary>
/// <remarks>
/// Channels-last lets a window be compared a whole vector of channels at a time; the index of each
/// winner (the first maximum in window order) is kept for the backward pass. Samples run in parallel.
/// </remarks>
public sealed class MaxPool2D(int pool = 2) : Layer
{
    private int[] _argMax = []; // per output element: the input index (within the sample) that won

    public int Pool { get; } = pool > 0 ? pool : throw new ArgumentOutOfRangeException(nameof(pool));
    public override string Describe() => $"MaxPool2D {Pool}×{Pool}";

    protected override TensorShape ComputeOutputShape(TensorShape input)
    {
        if (input.Height < Pool || input.Width < Pool) throw new ArgumentException($"A {Pool}×{Pool} pool does not fit a {input} input.");
        return new TensorShape(input.Height / Pool, input.Width / Pool, input.Channels);
    }

    public override void EnsureCapacity(int maxBatch)
    {
        if (_argMax.Length < maxBatch * OutputShape.Size) _argMax = new int[maxBatch * OutputShape.Size];
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        EnsureCapacity(batch);
        int inSize = InputShape.Size, outSize = OutputShape.Size;
        int[] argMax = _argMax;
        BatchParallel.For(batch, input, default, output, (x, _, y, start, end) =>
        {
            for (int b = start; b < end; b++)
                PoolImage(x.Slice(b * inSize, inSize), y.Slice(b * outSize, outSize), argMax.AsSpan(b * outSize, outSize));
        });
    }

    private void PoolImage(ReadOnlySpan<float> image, Span<float> pooled, Span<int> winners)
    {
        int width = InputShape.Width, channels = InputShape.Channels;
        int outHeight = OutputShape.Height, outWidth = OutputShape.Width;
        int vectorChannels = Vector512.IsHardwareAccelerated ? channels - channels % Vector512<float>.Count : 0;
        for (int oy = 0; oy < outHeight; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int outBase = (oy * outWidth + ox) * channels;
                int first = (oy * Pool * width + ox * Pool) * channels;
                for (int c = 0; c < vectorChannels; c += Vector512<float>.Count)
                {
                    var best = Vector512.Create(image.Slice(first + c, Vector512<float>.Count));
                    var bestIndex = Vector512.Create(first + c) + Vector512<int>.Indices;
                    for (int py = 0; py < Pool; py++)
                        for (int px = 0; px < Pool; px++)
                        {
                            if (py == 0 && px == 0) continue;
                            int index = ((oy * Pool + py) * width + ox * Pool + px) * channels + c;
                            var candidate = Vector512.Create(image.Slice(index, Vector512<float>.Count));
                            var greater = Vector512.GreaterThan(candidate, best);
                            best = Vector512.ConditionalSelect(greater, candidate, best);
                            bestIndex = Vector512.ConditionalSelect(greater.AsInt32(), Vector512.Create(index) + Vector512<int>.Indices, bestIndex);
                        }
                    best.CopyTo(pooled.Slice(outBase + c, Vector512<float>.Count));
                    bestIndex.CopyTo(winners.Slice(outBase + c, Vector512<int>.Count));
                }
                for (int c = vectorChannels; c < channels; c++)
                {
                    float best = image[first + c];
                    int bestIndex = first + c;
                    for (int py = 0; py < Pool; py++)
                        for (int px = 0; px < Pool; px++)
                        {
                            int index = ((oy * Pool + py) * width + ox * Pool + px) * channels + c;
                            if (image[index] > best)
                            {
                                best = image[index];
                                bestIndex = index;
                            }
                        }
                    pooled[outBase + c] = best;
                    winners[outBase + c] = bestIndex;
                }
            }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int inSize = InputShape.Size, outSize = OutputShape.Size;
        int[] argMax = _argMax;
        // The gradient flows only to the input that won each window.
        BatchParallel.For(batch, outputGradient, default, inputGradient, (dy, _, dx, start, end) =>
        {
            for (int b = start; b < end; b++)
            {
                Span<float> dInput = dx.Slice(b * inSize, inSize);
                dInput.Clear();
                ReadOnlySpan<float> dOutput = dy.Slice(b * outSize, outSize);
                ReadOnlySpan<int> winners = argMax.AsSpan(b * outSize, outSize);
                for (int o = 0; o < outSize; o++) dInput[winners[o]] += dOutput[o];
            }
        });
    }
}
