using System.Numerics.Tensors;

namespace Mnist.Cnn.Layers;

/// <summary>Rectified linear unit: y = max(x, 0).</summary>
public sealed class Relu : Layer
{
    public override string Describe() => "ReLU";

    protected override TensorShape ComputeOutputShape(TensorShape input) => input;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        int n = batch * InputShape.Size;
        TensorPrimitives.Max(input[..n], 0f, output[..n]);
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int n = batch * InputShape.Size;
        // dx = dy where the output was positive, else 0.
        for (int i = 0; i < n; i++) inputGradient[i] = output[i] > 0f ? outputGradient[i] : 0f;
    }

    public override void WriteConfig(BinaryWriter writer) => writer.Write(nameof(Relu));
}
