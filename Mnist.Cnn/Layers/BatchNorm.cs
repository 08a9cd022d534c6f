using Mnist.Core.Numerics;

namespace Mnist.Cnn.Layers;

/// <summary>
/// Batch normalisation over the channel (last) axis: after a convolution each channel is normalised over
/// batch×height×width, after a dense layer each unit over the batch. Training uses the batch's
/// statistics and updates running averages; inference uses the running averages.
/// </summary>
/// <remarks>
/// Channel sums are taken in fixed blocks of positions (float within a block, double across blocks, in
/// block order), so the statistics are the same for any thread count. Backward recomputes x̂ from the
/// input instead of storing it: dx = a·dy + b·x + c per channel. The own backend runs a BatchNorm followed by a
/// ReLU as one <see cref="BatchNormRelu"/>: the same passes with the clamp, and the ReLU's mask, folded in.
/// </remarks>
public sealed class BatchNorm(double momentum = 0.99, double epsilon = 1e-3) : Layer
{
    private const int BlockPositions = 256;

    private Parameter _gamma = null!;
    private Parameter _beta = null!;
    private float[] _runningMean = [];
    private float[] _runningVariance = [];
    private float[] _mean = [];        // of the last training batch
    private float[] _inverseStd = [];  // of the last training batch
    private float[] _scale = [], _shift = [];  // per-channel y = x·scale + shift of the last forward (the fused ReLU's mask in backward)
    private float[] _dyCoefficient = [], _constant = [], _xCoefficient = []; // per-channel dx = dy·a + x·b + c of the backward
    private double[] _partialsA = [], _partialsB = []; // per block × channel
    private float[][] _scratch = []; // per worker, when a pool follows: normalised rows (forward) or an unpooled block of dy (backward)

    public double Momentum { get; } = momentum;
    public double Epsilon { get; } = epsilon;
    public override string Describe() => "BatchNorm";
    public override IReadOnlyList<Parameter> Parameters => [_gamma, _beta];
    public override IReadOnlyList<float[]> State => [_runningMean, _runningVariance];

    /// <summary>The dγ/dβ sums read all of dy before the dx pass writes it, element by element.</summary>
    internal override bool GradientInPlace => true;

    protected override TensorShape ComputeOutputShape(TensorShape input) => input;

    protected override void Initialize(Random random)
    {
        int channels = InputShape.Channels;
        _gamma = NewParameter("gamma", channels, decay: false);
        _beta = NewParameter("beta", channels, decay: false);
        _gamma.Value.AsSpan().Fill(1f);
        _runningMean = new float[channels];
        _runningVariance = new float[channels];
        _runningVariance.AsSpan().Fill(1f);
        _mean = new float[channels];
        _inverseStd = new float[channels];
        _scale = new float[channels];
        _shift = new float[channels];
        _dyCoefficient = new float[channels];
        _constant = new float[channels];
        _xCoefficient = new float[channels];
    }

    public override void EnsureCapacity(int maxBatch)
    {
        int blocks = Blocks(maxBatch);
        if (_partialsA.Length >= blocks * InputShape.Channels) return;
        _partialsA = new double[blocks * InputShape.Channels];
        _partialsB = new double[blocks * InputShape.Channels];
    }

    internal override void ReleaseScratch() => (_partialsA, _partialsB, _scratch) = ([], [], []);

    private int Blocks(int batch) => (batch * InputShape.Height * InputShape.Width + BlockPositions - 1) / BlockPositions;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        Forward(input, output, batch, training, relu: false);

    /// <summary>
    /// The forward, followed in the same pass by y = max(y, 0) when <paramref name="relu"/>, and then by <paramref name="pool"/>
    /// (whose input this layer's output is): <paramref name="output"/> is then the pooled output, and the normalised rows
    /// of each row of windows only pass through a worker's scratch buffer.
    /// </summary>
    internal void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training, bool relu, MaxPool2D? pool = null)
    {
        int channels = InputShape.Channels;
        int positions = batch * InputShape.Height * InputShape.Width;
        if (training)
        {
            EnsureCapacity(batch);
            BlockStatistics(input, positions, channels);
            for (int c = 0; c < channels; c++)
            {
                double batchMean = SumBlocks(_partialsA, c, positions, channels) / positions;
                _mean[c] = (float)batchMean;
                double variance = CombineSquares(c, positions, channels, batchMean) / positions;
                _inverseStd[c] = (float)(1 / Math.Sqrt(variance + Epsilon));
                double unbiased = positions > 1 ? variance * positions / (positions - 1) : variance;
                _runningMean[c] = (float)(Momentum * _runningMean[c] + (1 - Momentum) * _mean[c]);
                _runningVariance[c] = (float)(Momentum * _runningVariance[c] + (1 - Momentum) * unbiased);
            }
        }
        ReadOnlySpan<float> mean = training ? _mean : _runningMean;
        for (int c = 0; c < channels; c++)
        {
            float inverseStd = training ? _inverseStd[c] : (float)(1 / Math.Sqrt(_runningVariance[c] + Epsilon));
            _scale[c] = _gamma.Value[c] * inverseStd;
            _shift[c] = _beta.Value[c] - mean[c] * _scale[c];
        }
        float[] scale = _scale, shift = _shift;
        // y = x·scale + shift, with scale = γ·invStd and shift = β − mean·scale.
        if (pool is null)
        {
            BatchParallel.For(positions, input, default, output, (x, _, y, start, end) =>
                ChannelKernels.Affine(x[(start * channels)..(end * channels)], scale, shift, default, default, y[(start * channels)..(end * channels)], clamp: relu));
            return;
        }
        pool.EnsureCapacity(batch);
        int inSize = InputShape.Size, outSize = pool.OutputShape.Size, rowsSize = pool.RowsSize, outRowSize = pool.OutRowSize, outHeight = pool.OutputShape.Height;
        float[][] scratch = Scratch(batch, rowsSize);
        BatchParallel.For(batch, input, default, output, (worker, x, _, y, start, end) =>
        {
            Span<float> rows = scratch[worker].AsSpan(0, rowsSize);
            for (int b = start; b < end; b++)
                for (int oy = 0; oy < outHeight; oy++)
                {
                    ChannelKernels.Affine(x.Slice(b * inSize + oy * rowsSize, rowsSize), scale, shift, default, default, rows, clamp: relu);
                    pool.PoolRow(rows, y.Slice(b * outSize + oy * outRowSize, outRowSize), b, oy);
                }
        });
    }

    /// <summary>One scratch buffer of at least <paramref name="length"/> floats per worker of <paramref name="items"/> items (grown here, before the workers start).</summary>
    private float[][] Scratch(int items, int length)
    {
        int workers = Math.Max(WorkSplit.Workers(items), _scratch.Length);
        int size = Math.Max(length, _scratch.Length > 0 ? _scratch[0].Length : 0);
        if (_scratch.Length < workers || _scratch[0].Length < size) _scratch = [.. Enumerable.Range(0, workers).Select(_ => new float[size])];
        return _scratch;
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch) =>
        Backward(input, outputGradient, inputGradient, batch, relu: false);

    /// <summary>
    /// The backward; when <paramref name="relu"/>, <paramref name="outputGradient"/> is that of a ReLU after this layer, whose
    /// mask (x·scale + shift &gt; 0, with the last forward's coefficients) is applied as dy is read; with <paramref name="pool"/>,
    /// it is the gradient of the pool after that, unpooled a block at a time into a worker's scratch buffer.
    /// </summary>
    internal void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch, bool relu, MaxPool2D? pool = null)
    {
        int channels = InputShape.Channels;
        int positions = batch * InputShape.Height * InputShape.Width;
        float[] maskScale = relu ? _scale : [], maskShift = relu ? _shift : [];
        // A = Σ dy, B = Σ dy·x per channel; dβ = A, dγ = invStd·(B − mean·A).
        BlockSums(outputGradient, input, positions, channels, maskScale, maskShift, pool);
        Span<float> dGamma = _gamma.Gradient, dBeta = _beta.Gradient;
        for (int c = 0; c < channels; c++)
        {
            double sumDy = SumBlocks(_partialsA, c, positions, channels);
            double sumDyX = SumBlocks(_partialsB, c, positions, channels);
            dBeta[c] = (float)sumDy;
            dGamma[c] = (float)(_inverseStd[c] * (sumDyX - _mean[c] * sumDy));
        }
        if (inputGradient.IsEmpty) return;
        // dx = s·(dy − dβ/N − x̂·dγ/N), s = γ·invStd, x̂ = (x − mean)·invStd  ⇒  dx = s·dy + b·x + c.
        for (int c = 0; c < channels; c++)
        {
            double s = _gamma.Value[c] * _inverseStd[c];
            double b = -s * _inverseStd[c] * dGamma[c] / positions;
            _dyCoefficient[c] = (float)s;
            _constant[c] = (float)(-s * dBeta[c] / positions - b * _mean[c]);
            _xCoefficient[c] = (float)b;
        }
        float[] dyCoefficients = _dyCoefficient, constants = _constant, xCoefficients = _xCoefficient;
        if (pool is null)
        {
            BatchParallel.For(positions, outputGradient, input, inputGradient, (dy, x, dx, start, end) =>
                ChannelKernels.Affine(dy[(start * channels)..(end * channels)], dyCoefficients, constants, x[(start * channels)..(end * channels)], xCoefficients,
                    dx[(start * channels)..(end * channels)], maskScale: maskScale, maskShift: maskShift));
            return;
        }
        int blocks = (positions + BlockPositions - 1) / BlockPositions;
        float[][] scratch = Scratch(blocks, BlockPositions * channels);
        BatchParallel.For(blocks, outputGradient, input, inputGradient, (worker, dy, x, dx, start, end) =>
        {
            for (int block = start; block < end; block++)
            {
                int first = block * BlockPositions, last = Math.Min(positions, first + BlockPositions);
                Span<float> unpooled = scratch[worker].AsSpan(0, (last - first) * channels);
                pool.Unpool(dy, first, unpooled);
                ChannelKernels.Affine(unpooled, dyCoefficients, constants, x[(first * channels)..(last * channels)], xCoefficients,
                    dx[(first * channels)..(last * channels)], maskScale: maskScale, maskShift: maskShift);
            }
        });
    }

    /// <summary>
    /// Per block of positions and channel: A = Σ u and, when <paramref name="v"/> is given, B = Σ u·v (u masked as
    /// <see cref="ChannelKernels.Sums"/> does when a mask is given, and unpooled first by <paramref name="pool"/> when
    /// given). Written to the partial arrays, block-major.
    /// </summary>
    private void BlockSums(ReadOnlySpan<float> u, ReadOnlySpan<float> v, int positions, int channels, float[] maskScale, float[] maskShift, MaxPool2D? pool)
    {
        int blocks = (positions + BlockPositions - 1) / BlockPositions;
        double[] partialsA = _partialsA, partialsB = _partialsB;
        bool withV = !v.IsEmpty;
        float[][] scratch = pool is null ? [] : Scratch(blocks, BlockPositions * channels);
        BatchParallel.For(blocks, u, v, default, (worker, uu, vv, _, start, end) =>
        {
            Span<float> sumA = stackalloc float[channels];
            Span<float> sumB = stackalloc float[channels];
            for (int block = start; block < end; block++)
            {
                int first = block * BlockPositions, last = Math.Min(positions, first + BlockPositions);
                ReadOnlySpan<float> rows;
                if (pool is null)
                {
                    rows = uu[(first * channels)..(last * channels)];
                }
                else
                {
                    Span<float> unpooled = scratch[worker].AsSpan(0, (last - first) * channels);
                    pool.Unpool(uu, first, unpooled); // uu is the pool's (smaller) output gradient
                    rows = unpooled;
                }
                ChannelKernels.Sums(rows, withV ? vv[(first * channels)..(last * channels)] : default,
                    default, channels, sumA, sumB, maskScale, maskShift);
                for (int c = 0; c < channels; c++)
                {
                    partialsA[block * channels + c] = sumA[c];
                    if (withV) partialsB[block * channels + c] = sumB[c];
                }
            }
        });
    }

    /// <summary>
    /// Per block and channel, in one read of the input: A = Σ x and B = Σ (x − m)² about the block's own mean m
    /// (two passes over the block while it is in cache, which keeps the variance accurate when |mean| ≫ std).
    /// </summary>
    private void BlockStatistics(ReadOnlySpan<float> x, int positions, int channels)
    {
        int blocks = (positions + BlockPositions - 1) / BlockPositions;
        double[] partialsA = _partialsA, partialsB = _partialsB;
        BatchParallel.For(blocks, x, default, default, (xx, _, _, start, end) =>
        {
            Span<float> sum = stackalloc float[channels];
            Span<float> squares = stackalloc float[channels];
            Span<float> blockMean = stackalloc float[channels];
            for (int block = start; block < end; block++)
            {
                int first = block * BlockPositions, last = Math.Min(positions, first + BlockPositions);
                ReadOnlySpan<float> rows = xx[(first * channels)..(last * channels)];
                ChannelKernels.Sums(rows, default, default, channels, sum, default);
                for (int c = 0; c < channels; c++) blockMean[c] = BlockMean(sum[c], last - first);
                ChannelKernels.Sums(rows, default, blockMean, channels, squares, default);
                for (int c = 0; c < channels; c++)
                {
                    partialsA[block * channels + c] = sum[c];
                    partialsB[block * channels + c] = squares[c];
                }
            }
        });
    }

    private static float BlockMean(float sum, int count) => sum / count;

    /// <summary>
    /// Σ (x − mean)² over all blocks from their sums S and squares B about their centres m:
    /// Σ_block [B + 2(m − mean)(S − n·m) + n·(m − mean)²], in double.
    /// </summary>
    private double CombineSquares(int channel, int positions, int channels, double mean)
    {
        int blocks = (positions + BlockPositions - 1) / BlockPositions;
        double total = 0;
        for (int block = 0; block < blocks; block++)
        {
            int n = Math.Min(positions, (block + 1) * BlockPositions) - block * BlockPositions;
            float sum = (float)_partialsA[block * channels + channel];
            double centre = BlockMean(sum, n), offset = centre - mean;
            total += _partialsB[block * channels + channel] + 2 * offset * (sum - n * centre) + n * offset * offset;
        }
        return total;
    }

    private static double SumBlocks(double[] partials, int channel, int positions, int channels)
    {
        int blocks = (positions + BlockPositions - 1) / BlockPositions;
        double sum = 0;
        for (int block = 0; block < blocks; block++) sum += partials[block * channels + channel];
        return sum;
    }
}
