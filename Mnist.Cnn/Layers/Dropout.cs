namespace Mnist.Cnn.Layers;

/// <summary>
/// Inverted dropout: in training each activation is zeroed with probability <see cref="Rate"/> and the
/// survivors scaled by 1/(1−rate), so inference is the identity. The mask stream is seeded at Build.
/// </summary>
public sealed class Dropout(double rate) : Layer
{
    private Random _random = null!;
    private float[] _mask = [];

    public double Rate { get; } = rate is >= 0 and < 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate));
    public override string Describe() => $"Dropout {Rate:0.##}";

    protected override TensorShape ComputeOutputShape(TensorShape input) => input;

    protected override void Initialize(Random random) => _random = new Random(random.Next());

    public override void EnsureCapacity(int maxBatch)
    {
        if (_mask.Length < maxBatch * InputShape.Size) _mask = new float[maxBatch * InputShape.Size];
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        int n = batch * InputShape.Size;
        if (!training || Rate == 0)
        {
            input[..n].CopyTo(output);
            return;
        }
        float scale = (float)(1 / (1 - Rate));
        for (int i = 0; i < n; i++)
        {
            float keep = _random.NextDouble() >= Rate ? scale : 0f;
            _mask[i] = keep;
            output[i] = input[i] * keep;
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int n = batch * InputShape.Size;
        if (Rate == 0)
        {
            outputGradient[..n].CopyTo(inputGradient);
            return;
        }
        System.Numerics.Tensors.TensorPrimitives.Multiply(outputGradient[..n], _mask.AsSpan(0, n), inputGradient[..n]);
    }

    /// <summary>Reseeds the mask stream (used by the trainer so each epoch's masks depend only on the seed and epoch).</summary>
    public void Reseed(int seed) => _random = new Random(seed);

    public override void WriteConfig(BinaryWriter writer)
    {
        writer.Write(nameof(Dropout));
        writer.Write(Rate);
    }
}
