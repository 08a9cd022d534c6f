using System.Numerics.Tensors;

namespace Mnist.Cnn.Layers;

/// <summary>
/// Batch normalisation over the channel (last) axis: after a convolution each channel is normalised over
/// batch×height×width, after a dense layer each unit over the batch. Training uses the batch's
/// statistics and updates running averages; inference uses the running averages.
/// </summary>
public sealed class BatchNorm(double momentum = 0.99, double epsilon = 1e-3) : Layer
{
    private Parameter _gamma = null!;
    private Parameter _beta = null!;
    private float[] _runningMean = [];
    private float[] _runningVariance = [];
    private float[] _normalized = [];  // x̂ of the last training batch
    private float[] _inverseStd = [];  // per channel, of the last training batch
    private double[] _sum = [], _sumSquares = [];

    public double Momentum { get; } = momentum;
    public double Epsilon { get; } = epsilon;
    public override string Describe() => "BatchNorm";
    public override IReadOnlyList<Parameter> Parameters => [_gamma, _beta];
    public override IReadOnlyList<float[]> State => [_runningMean, _runningVariance];

    protected override TensorShape ComputeOutputShape(TensorShape input) => input;

    protected override void Initialize(Random random)
    {
        int channels = InputShape.Channels;
        _gamma = new Parameter("gamma", channels, decay: false);
        _beta = new Parameter("beta", channels, decay: false);
        _gamma.Value.AsSpan().Fill(1f);
        _runningMean = new float[channels];
        _runningVariance = new float[channels];
        _runningVariance.AsSpan().Fill(1f);
        _inverseStd = new float[channels];
        _sum = new double[channels];
        _sumSquares = new double[channels];
    }

    public override void EnsureCapacity(int maxBatch)
    {
        if (_normalized.Length < maxBatch * InputShape.Size) _normalized = new float[maxBatch * InputShape.Size];
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        int channels = InputShape.Channels;
        int positions = batch * InputShape.Height * InputShape.Width; // values per channel
        int n = positions * channels;
        if (!training)
        {
            for (int c = 0; c < channels; c++)
                _inverseStd[c] = (float)(1 / Math.Sqrt(_runningVariance[c] + Epsilon));
            Normalize(input[..n], output[..n], _runningMean, channels, positions);
            return;
        }

        EnsureCapacity(batch);
        Array.Clear(_sum);
        Array.Clear(_sumSquares);
        for (int p = 0; p < positions; p++)
        {
            ReadOnlySpan<float> row = input.Slice(p * channels, channels);
            for (int c = 0; c < channels; c++)
            {
                double v = row[c];
                _sum[c] += v;
                _sumSquares[c] += v * v;
            }
        }
        Span<float> mean = stackalloc float[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = _sum[c] / positions;
            double variance = Math.Max(0, _sumSquares[c] / positions - m * m);
            mean[c] = (float)m;
            _inverseStd[c] = (float)(1 / Math.Sqrt(variance + Epsilon));
            double unbiased = positions > 1 ? variance * positions / (positions - 1) : variance;
            _runningMean[c] = (float)(Momentum * _runningMean[c] + (1 - Momentum) * m);
            _runningVariance[c] = (float)(Momentum * _runningVariance[c] + (1 - Momentum) * unbiased);
        }
        Normalize(input[..n], output[..n], mean, channels, positions);
    }

    /// <summary>x̂ = (x − mean)·invStd (kept for backward), y = γ·x̂ + β.</summary>
    private void Normalize(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> mean, int channels, int positions)
    {
        bool keep = _normalized.Length >= input.Length;
        for (int p = 0; p < positions; p++)
        {
            ReadOnlySpan<float> x = input.Slice(p * channels, channels);
            Span<float> y = output.Slice(p * channels, channels);
            TensorPrimitives.Subtract(x, mean, y);
            TensorPrimitives.Multiply(y, _inverseStd, y);
            if (keep) y.CopyTo(_normalized.AsSpan(p * channels, channels));
            TensorPrimitives.FusedMultiplyAdd(y, _gamma.Value, _beta.Value, y);
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int channels = InputShape.Channels;
        int positions = batch * InputShape.Height * InputShape.Width;
        // dβ = Σ dy, dγ = Σ dy·x̂ ; dx = γ·invStd/N · (N·dy − dβ − x̂·dγ)
        Span<float> dGamma = _gamma.Gradient, dBeta = _beta.Gradient;
        dGamma.Clear();
        dBeta.Clear();
        for (int p = 0; p < positions; p++)
        {
            ReadOnlySpan<float> dy = outputGradient.Slice(p * channels, channels);
            TensorPrimitives.Add(dBeta, dy, dBeta);
            TensorPrimitives.FusedMultiplyAdd(dy, _normalized.AsSpan(p * channels, channels), dGamma, dGamma);
        }
        if (inputGradient.IsEmpty) return;
        Span<float> scale = stackalloc float[channels];
        Span<float> meanBeta = stackalloc float[channels];
        Span<float> meanGamma = stackalloc float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = _gamma.Value[c] * _inverseStd[c];
            meanBeta[c] = dBeta[c] / positions;
            meanGamma[c] = dGamma[c] / positions;
        }
        for (int p = 0; p < positions; p++)
        {
            ReadOnlySpan<float> dy = outputGradient.Slice(p * channels, channels);
            ReadOnlySpan<float> xHat = _normalized.AsSpan(p * channels, channels);
            Span<float> dx = inputGradient.Slice(p * channels, channels);
            for (int c = 0; c < channels; c++)
                dx[c] = scale[c] * (dy[c] - meanBeta[c] - xHat[c] * meanGamma[c]);
        }
    }

    public override void WriteConfig(BinaryWriter writer)
    {
        writer.Write(nameof(BatchNorm));
        writer.Write(Momentum);
        writer.Write(Epsilon);
    }
}
