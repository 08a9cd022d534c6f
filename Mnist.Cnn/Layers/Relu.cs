using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Mnist.Cnn.Layers;

/// <summary>Rectified linear unit: y = max(x, 0).</summary>
public sealed class Relu : Layer
{
    public override string Describe() => "ReLU";

    internal override bool GradientInPlace => true;

    protected override TensorShape ComputeOutputShape(TensorShape input) => input;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        int size = InputShape.Size;
        BatchParallel.For(batch, input, default, output, (x, _, y, start, end) =>
            TensorPrimitives.Max(x[(start * size)..(end * size)], 0f, y[(start * size)..(end * size)]));
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int size = InputShape.Size;
        BatchParallel.For(batch, output, outputGradient, inputGradient, (y, dy, dx, start, end) =>
            PassWherePositive(y[(start * size)..(end * size)], dy[(start * size)..(end * size)], dx[(start * size)..(end * size)]));
    }

    /// <summary>dx = dy where y &gt; 0, else 0.</summary>
    internal static void PassWherePositive(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= y.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var positive = Vector512.GreaterThan(Vector512.Create(y.Slice(i, Vector512<float>.Count)), Vector512<float>.Zero);
                (positive & Vector512.Create(dy.Slice(i, Vector512<float>.Count))).CopyTo(dx.Slice(i, Vector512<float>.Count));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var positive = Vector256.GreaterThan(Vector256.Create(y.Slice(i, Vector256<float>.Count)), Vector256<float>.Zero);
                (positive & Vector256.Create(dy.Slice(i, Vector256<float>.Count))).CopyTo(dx.Slice(i, Vector256<float>.Count));
            }
        }
        for (; i < y.Length; i++) dx[i] = y[i] > 0f ? dy[i] : 0f;
    }
}
