namespace Mnist.Cnn.Layers;

/// <summary>Reshapes H×W×C activations to a vector; the NHWC layout is already flat, so this is a copy.</summary>
public sealed class Flatten : Layer
{
    public override string Describe() => "Flatten";

    protected override TensorShape ComputeOutputShape(TensorShape input) => TensorShape.Vector(input.Size);

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        input[..(batch * InputShape.Size)].CopyTo(output);

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (!inputGradient.IsEmpty) outputGradient[..(batch * InputShape.Size)].CopyTo(inputGradient);
    }
}
