namespace Mnist.Cnn.Layers;

/// <summary>
/// Reshapes H×W×C activations to a vector. The NHWC layout is already flat: run alone this is a copy, and in a
/// <see cref="Sequential"/> it is a view (<see cref="IsView"/>) that is not run at all.
/// </summary>
public sealed class Flatten : Layer
{
    public override string Describe() => "Flatten";

    internal override bool IsView => true;

    protected override TensorShape ComputeOutputShape(TensorShape input) => TensorShape.Vector(input.Size);

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        input[..(batch * InputShape.Size)].CopyTo(output);

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (!inputGradient.IsEmpty) outputGradient[..(batch * InputShape.Size)].CopyTo(inputGradient);
    }
}
