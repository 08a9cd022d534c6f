using System.Numerics.Tensors;
using Mnist.Core.Numerics;

namespace Mnist.Cnn.Layers;

/// <summary>Fully connected layer: y = x·W + b, with W stored inputs × units (row-major).</summary>
public sealed class Dense(int units) : Layer
{
    private Parameter _weights = null!;
    private Parameter _bias = null!;

    public int Units { get; } = units > 0 ? units : throw new ArgumentOutOfRangeException(nameof(units));
    public override string Describe() => $"Dense {Units}";
    public override IReadOnlyList<Parameter> Parameters => [_weights, _bias];

    protected override TensorShape ComputeOutputShape(TensorShape input) => TensorShape.Vector(Units);

    protected override void Initialize(Random random)
    {
        int fanIn = InputShape.Size;
        _weights = NewParameter("weights", (long)fanIn * Units, decay: true);
        _bias = NewParameter("bias", Units, decay: false);
        // He-uniform: suits the ReLU that follows almost every Dense layer here.
        FillUniform(_weights.Value, Math.Sqrt(6.0 / fanIn), random);
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        int inputs = InputShape.Size;
        Gemm.Multiply(Transpose.No, Transpose.No, batch, Units, inputs, 1f, input, inputs, _weights.Value, Units, 0f, output, Units);
        Kernels.AddBiasRows(output[..(batch * Units)], _bias.Value);
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int inputs = InputShape.Size;
        // dW = xᵀ·dy, db = Σ_rows dy, dx = dy·Wᵀ
        Gemm.Multiply(Transpose.Yes, Transpose.No, inputs, Units, batch, 1f, input, inputs, outputGradient, Units, 0f, _weights.Gradient, Units);
        Span<float> biasGradient = _bias.Gradient;
        biasGradient.Clear();
        for (int r = 0; r < batch; r++) TensorPrimitives.Add(biasGradient, outputGradient.Slice(r * Units, Units), biasGradient);
        if (!inputGradient.IsEmpty)
            Gemm.Multiply(Transpose.No, Transpose.Yes, batch, inputs, Units, 1f, outputGradient, Units, _weights.Value, Units, 0f, inputGradient, inputs);
    }
}
