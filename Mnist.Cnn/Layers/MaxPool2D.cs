namespace Mnist.Cnn.Layers;

/// <summary>Max pooling over non-overlapping pool×pool windows (stride = pool; a trailing odd row/column is dropped, as in Keras).</summary>
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
        int width = InputShape.Width, channels = InputShape.Channels;
        int outHeight = OutputShape.Height, outWidth = OutputShape.Width;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> image = input.Slice(b * inSize, inSize);
            Span<float> pooled = output.Slice(b * outSize, outSize);
            Span<int> winners = _argMax.AsSpan(b * outSize, outSize);
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int outBase = (oy * outWidth + ox) * channels;
                    int first = (oy * Pool * width + ox * Pool) * channels;
                    image.Slice(first, channels).CopyTo(pooled.Slice(outBase, channels));
                    for (int c = 0; c < channels; c++) winners[outBase + c] = first + c;
                    for (int py = 0; py < Pool; py++)
                        for (int px = 0; px < Pool; px++)
                        {
                            if (py == 0 && px == 0) continue;
                            int index = ((oy * Pool + py) * width + ox * Pool + px) * channels;
                            for (int c = 0; c < channels; c++)
                            {
                                float v = image[index + c];
                                if (v > pooled[outBase + c])
                                {
                                    pooled[outBase + c] = v;
                                    winners[outBase + c] = index + c;
                                }
                            }
                        }
                }
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int inSize = InputShape.Size, outSize = OutputShape.Size;
        inputGradient[..(batch * inSize)].Clear();
        // The gradient flows only to the input that won each window.
        for (int b = 0; b < batch; b++)
        {
            Span<float> dInput = inputGradient.Slice(b * inSize, inSize);
            ReadOnlySpan<float> dOutput = outputGradient.Slice(b * outSize, outSize);
            ReadOnlySpan<int> winners = _argMax.AsSpan(b * outSize, outSize);
            for (int o = 0; o < outSize; o++) dInput[winners[o]] += dOutput[o];
        }
    }

    public override void WriteConfig(BinaryWriter writer)
    {
        writer.Write(nameof(MaxPool2D));
        writer.Write(Pool);
    }
}
