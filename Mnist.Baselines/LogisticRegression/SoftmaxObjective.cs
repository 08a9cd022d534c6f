using Mnist.Baselines.Common;
using Mnist.Core.Data;
using Mnist.Core.Numerics;

namespace Mnist.Baselines.LogisticRegression;

/// <summary>
/// The full-batch multinomial logistic-regression objective
/// f(W, b) = (1/n) Σᵢ −log softmax(xᵢW + b)_{yᵢ} + (λ/2)‖W‖²  (the bias is not penalised),
/// with its gradient, computed in float32 GEMMs over row blocks (Sᵀ = Wᵀ·Xᵀ, then (XᵀR)ᵀ = Rᵀ·X) and
/// reduced in float64.
/// </summary>
/// <remarks>
/// <para>Parameter vector θ = [W (d×K, row-major), b' (K)]. For conditioning the features are centred
/// implicitly: scores are (xᵢ − μ)W + b', i.e. the effective bias is b = b' − μW. This is only a
/// reparametrisation of the bias (the penalty on W is unchanged), so the minimiser in (W, b) is the
/// same, but the Hessian no longer couples the bias with every pixel's mean, and L-BFGS converges in
/// far fewer iterations. No centred copy of X is made: XᵀR is corrected by −μ·(1ᵀR).</para>
/// <para>Work is split into a fixed number of row chunks (independent of the thread count) whose
/// partial gradients are summed in chunk order, so results do not depend on the number of threads.</para>
/// </remarks>
internal sealed class SoftmaxObjective
{
    private const int Classes = DigitDataView.ClassCount;
    private const int MaxChunks = 32;

    private readonly DigitDataView _data;
    private readonly byte[] _labels;
    private readonly int _n;
    private readonly int _d;
    private readonly double _l2;
    private readonly double[] _mean;
    private readonly float[] _weights;      // d×K, the float copy of W (for ToWeights)
    private readonly float[] _weightsT;     // K×d, Wᵀ used by the GEMMs
    private readonly float[] _bias;         // effective bias b' − μW
    private readonly Chunk[] _chunks;

    private sealed class Chunk(int start, int end, int features)
    {
        public readonly int Start = start;
        public readonly int End = end;
        public readonly float[] GradientT = new float[Classes * features];   // (XᵀR)ᵀ = RᵀX, K×d
        public readonly float[] Scores = new float[LinearWeights.BlockRows * Classes];
        public readonly double[] ResidualSums = new double[Classes];
        public double Loss;
        public int Correct;
    }

    /// <param name="data">Contiguous labelled training data (call Materialize first).</param>
    /// <param name="l2">λ ≥ 0.</param>
    public SoftmaxObjective(DigitDataView data, double l2)
    {
        if (!data.IsContiguous) throw new ArgumentException("The objective needs a contiguous view; call Materialize().", nameof(data));
        if (data.Count == 0) throw new ArgumentException("No training images.", nameof(data));
        if (!(l2 >= 0) || double.IsInfinity(l2)) throw new ArgumentOutOfRangeException(nameof(l2), "l2 must be a finite value ≥ 0.");
        _data = data;
        _labels = data.GetLabels();
        _n = data.Count;
        _d = data.PixelCount;
        _l2 = l2;
        _weights = new float[_d * Classes];
        _weightsT = new float[Classes * _d];
        _bias = new float[Classes];

        _mean = new double[_d];
        ReadOnlySpan<float> pixels = data.ContiguousPixels;
        for (int i = 0; i < _n; i++)
        {
            ReadOnlySpan<float> row = pixels.Slice(i * _d, _d);
            for (int j = 0; j < _d; j++) _mean[j] += row[j];
        }
        for (int j = 0; j < _d; j++) _mean[j] /= _n;

        int chunkCount = Math.Clamp((_n + LinearWeights.BlockRows - 1) / LinearWeights.BlockRows, 1, MaxChunks);
        _chunks = new Chunk[chunkCount];
        for (int c = 0; c < chunkCount; c++)
            _chunks[c] = new Chunk((int)((long)_n * c / chunkCount), (int)((long)_n * (c + 1) / chunkCount), _d);
    }

    public int Features => _d;
    public int ParameterCount => _d * Classes + Classes;
    public double L2 => _l2;

    /// <summary>Mean cross-entropy (without the penalty) at the last evaluated point.</summary>
    public double LastDataLoss { get; private set; }

    /// <summary>Training accuracy at the last evaluated point.</summary>
    public double LastAccuracy { get; private set; }

    /// <summary>f(θ); writes ∇f(θ) into <paramref name="gradient"/>.</summary>
    public double Evaluate(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        if (theta.Length != ParameterCount || gradient.Length != ParameterCount)
            throw new ArgumentException($"Expected {ParameterCount} parameters.");
        int dk = _d * Classes;
        LoadParameters(theta);

        Parallel.For(0, _chunks.Length, ComputeSettings.ParallelOptions(), c => RunChunk(_chunks[c]));

        // Reduce in chunk order (deterministic), in float64.
        gradient.Clear();
        double loss = 0;
        int correct = 0;
        Span<double> residualSums = stackalloc double[Classes];
        residualSums.Clear();
        foreach (var chunk in _chunks)
        {
            loss += chunk.Loss;
            correct += chunk.Correct;
            for (int k = 0; k < Classes; k++) residualSums[k] += chunk.ResidualSums[k];
            float[] gt = chunk.GradientT;
            for (int k = 0; k < Classes; k++)
            {
                ReadOnlySpan<float> row = gt.AsSpan(k * _d, _d);
                for (int j = 0; j < _d; j++) gradient[j * Classes + k] += row[j];
            }
        }

        double inverseN = 1.0 / _n;
        double penalty = 0;
        for (int j = 0; j < _d; j++)
        {
            double mean = _mean[j];
            int offset = j * Classes;
            for (int k = 0; k < Classes; k++)
            {
                double w = theta[offset + k];
                penalty += w * w;
                gradient[offset + k] = (gradient[offset + k] - mean * residualSums[k]) * inverseN + _l2 * w;
            }
        }
        for (int k = 0; k < Classes; k++) gradient[dk + k] = residualSums[k] * inverseN;

        LastDataLoss = loss * inverseN;
        LastAccuracy = (double)correct / _n;
        return LastDataLoss + 0.5 * _l2 * penalty;
    }

    /// <summary>The classifier for θ, with the centring folded into the bias.</summary>
    public LinearWeights ToWeights(ReadOnlySpan<double> theta)
    {
        LoadParameters(theta);
        return new LinearWeights(_d, (float[])_weights.Clone(), (float[])_bias.Clone());
    }

    private void LoadParameters(ReadOnlySpan<double> theta)
    {
        int dk = _d * Classes;
        Span<double> bias = stackalloc double[Classes];
        for (int k = 0; k < Classes; k++) bias[k] = theta[dk + k];
        for (int j = 0; j < _d; j++)
        {
            double mean = _mean[j];
            int offset = j * Classes;
            for (int k = 0; k < Classes; k++)
            {
                double w = theta[offset + k];
                _weights[offset + k] = (float)w;
                _weightsT[k * _d + j] = (float)w;
                bias[k] -= mean * w;
            }
        }
        for (int k = 0; k < Classes; k++) _bias[k] = (float)bias[k];
    }

    private void RunChunk(Chunk chunk)
    {
        ReadOnlySpan<float> pixels = _data.ContiguousPixels;
        double loss = 0;
        int correct = 0;
        Span<double> residualSums = stackalloc double[Classes];
        residualSums.Clear();
        bool first = true;
        Span<float> column = stackalloc float[Classes];
        for (int start = chunk.Start; start < chunk.End; start += LinearWeights.BlockRows)
        {
            int rows = Math.Min(LinearWeights.BlockRows, chunk.End - start);
            ReadOnlySpan<float> block = pixels.Slice(start * _d, rows * _d);
            Span<float> scores = chunk.Scores.AsSpan(0, Classes * rows);   // Sᵀ: K × rows

            // Sᵀ = Wᵀ·X_bᵀ (class-major, so that both products below are wide in the pixel or row dimension)
            Gemm.Multiply(Transpose.No, Transpose.Yes, Classes, rows, _d, 1f, _weightsT, _d, block, _d, 0f, scores, rows, threads: 1);

            // Loss, accuracy and residual Rᵀ = softmax(S)ᵀ − Yᵀ, in place (column i of Sᵀ is image i).
            for (int i = 0; i < rows; i++)
            {
                int label = _labels[start + i];
                for (int k = 0; k < Classes; k++) column[k] = scores[k * rows + i] + _bias[k];
                int best = Kernels.ArgMax(column);
                float max = column[best];
                if (best == label) correct++;
                double labelScore = column[label];
                float sum = 0;
                for (int k = 0; k < Classes; k++)
                {
                    float e = MathF.Exp(column[k] - max);
                    column[k] = e;
                    sum += e;
                }
                loss += Math.Log(sum) + max - labelScore;
                float inverse = 1f / sum;
                for (int k = 0; k < Classes; k++)
                {
                    float r = column[k] * inverse - (k == label ? 1f : 0f);
                    scores[k * rows + i] = r;
                    residualSums[k] += r;
                }
            }

            // Gᵀ += Rᵀ·X_b
            Gemm.Multiply(Transpose.No, Transpose.No, Classes, _d, rows, 1f, scores, rows, block, _d, first ? 0f : 1f, chunk.GradientT, _d, threads: 1);
            first = false;
        }
        chunk.Loss = loss;
        chunk.Correct = correct;
        residualSums.CopyTo(chunk.ResidualSums);
    }
}
