namespace Mnist.Cnn.Layers;

/// <summary>
/// A <see cref="BatchNorm"/> and the <see cref="Relu"/> after it, run as one step (the own backend fuses them; the
/// layers, their parameters and the model file stay as they are). Forward: the statistics pass, then one pass that
/// normalises and clamps. Backward: the ReLU's mask is recomputed from the norm's input and the forward's
/// coefficients as dy is read, both in the dγ/dβ sums and in the dx pass, so neither the norm's output nor the
/// masked gradient is ever written. Every value equals the two layers' run one after the other.
/// </summary>
internal sealed class BatchNormRelu : Layer
{
    private readonly BatchNorm _norm;

    /// <summary>Fuses <paramref name="norm"/> (already built) with the ReLU that follows it.</summary>
    public BatchNormRelu(BatchNorm norm)
    {
        _norm = norm;
        Build(norm.InputShape, new Random(0)); // shapes only: nothing is drawn
    }

    public override string Describe() => "BatchNorm+ReLU";

    protected override TensorShape ComputeOutputShape(TensorShape input) => input;

    public override void EnsureCapacity(int maxBatch) => _norm.EnsureCapacity(maxBatch);

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        _norm.Forward(input, output, batch, training, relu: true);

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch) =>
        _norm.Backward(input, outputGradient, inputGradient, batch, relu: true);
}
