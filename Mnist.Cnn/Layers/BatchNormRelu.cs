namespace Mnist.Cnn.Layers;

/// <summary>
/// A <see cref="BatchNorm"/>, the <see cref="Relu"/> after it and, optionally, the <see cref="MaxPool2D"/> after that, run
/// as one step (the own backend fuses them; the layers, their parameters and the model file stay as they are).
/// Forward: the statistics pass, then one pass that normalises, clamps (and pools). Backward: the ReLU's mask is
/// recomputed from the norm's input and the forward's coefficients as dy is read (dy unpooled a block at a time
/// in cache), both in the dγ/dβ sums and in the dx pass, so the norm's output is never written to memory (nor the ReLU's
/// when a pool follows: only the pooled values are), and neither are the gradients of either. Every value equals the
/// layers' run one after the other.
/// </summary>
internal sealed class BatchNormRelu : Layer
{
    private readonly BatchNorm _norm;
    private readonly MaxPool2D? _pool;

    /// <summary>Fuses <paramref name="norm"/> with the ReLU that follows it, and with <paramref name="pool"/> after that when given (all built).</summary>
    public BatchNormRelu(BatchNorm norm, MaxPool2D? pool = null)
    {
        _norm = norm;
        _pool = pool;
        Build(norm.InputShape, new Random(0)); // shapes only: nothing is drawn
    }

    public override string Describe() => _pool is null ? "BatchNorm+ReLU" : $"BatchNorm+ReLU+{_pool.Describe()}";

    /// <summary>As the norm's, when no pool changes the size.</summary>
    internal override bool GradientInPlace => _pool is null;

    protected override TensorShape ComputeOutputShape(TensorShape input) => _pool?.OutputShape ?? input;

    public override void EnsureCapacity(int maxBatch)
    {
        _norm.EnsureCapacity(maxBatch);
        _pool?.EnsureCapacity(maxBatch);
    }

    internal override void ReleaseScratch()
    {
        _norm.ReleaseScratch();
        _pool?.ReleaseScratch();
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        _norm.Forward(input, output, batch, training, relu: true, _pool);

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch) =>
        _norm.Backward(input, outputGradient, inputGradient, batch, relu: true, _pool);
}
