using System.Numerics.Tensors;

namespace Mnist.Cnn.Augmentation;

/// <summary>
/// Elastic distortion (Simard, Steinkraus and Platt 2003): every pixel moves by its own displacement, drawn uniform in
/// [−1, 1) per pixel and axis, smoothed by a Gaussian of standard deviation <see cref="Sigma"/> pixels (zero outside
/// the image) and scaled by <see cref="Alpha"/> pixels. Smooth random fields bend strokes the way handwriting varies,
/// which rotations, zooms and shifts cannot.
/// </summary>
public sealed class ElasticDistortion
{
    /// <summary>The widest smoothing accepted, in pixels (the Gaussian spans 6σ).</summary>
    public const double MaxSigma = 64;

    [ThreadStatic] private static float[]? t_scratch;
    private readonly float[] _weights;

    public ElasticDistortion(double alpha, double sigma)
    {
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), "The displacement scale must be positive and finite.");
        if (!(sigma > 0) || sigma > MaxSigma) throw new ArgumentOutOfRangeException(nameof(sigma), $"The smoothing must be in (0, {MaxSigma}] pixels.");
        Alpha = alpha;
        Sigma = sigma;
        _weights = GaussianWeights(sigma);
    }

    /// <summary>Scale of the smoothed field, in pixels.</summary>
    public double Alpha { get; }

    /// <summary>Standard deviation of the smoothing Gaussian, in pixels.</summary>
    public double Sigma { get; }

    /// <summary>Half-width of the truncated Gaussian (3σ, rounded up).</summary>
    private int Radius => _weights.Length / 2;

    /// <summary>
    /// Writes the displacement fields of one image (height × width each, in pixels) for <paramref name="seed"/>; the noise is
    /// draws <paramref name="firstDraw"/> onwards of the image's counter stream (x field first, then y).
    /// </summary>
    internal void Fill(Span<float> dx, Span<float> dy, int height, int width, int seed, int firstDraw)
    {
        int pixels = height * width;
        int stride = width + 2 * Radius;
        int padded = height * stride;
        var scratch = t_scratch is { } s && s.Length >= 2 * padded ? s : t_scratch = new float[2 * padded];
        var noise = scratch.AsSpan(0, padded);
        var rows = scratch.AsSpan(padded, padded);
        for (int axis = 0; axis < 2; axis++)
        {
            noise.Clear();
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    noise[y * stride + Radius + x] = (float)RandomAffine.Uniform(seed, firstDraw + axis * pixels + y * width + x);
            Smooth(noise, rows, height, width, axis == 0 ? dx : dy);
        }
    }

    /// <summary>
    /// Gaussian smoothing of the noise, times <see cref="Alpha"/>, into <paramref name="field"/> (height × width). The noise sits in
    /// rows of <c>width + 2·Radius</c> with zero margins, so the horizontal pass is one shifted multiply-add per tap over the whole
    /// padded plane, and the vertical pass one per tap over the rows it reaches; <paramref name="noise"/> is overwritten.
    /// </summary>
    private void Smooth(Span<float> noise, Span<float> rows, int height, int width, Span<float> field)
    {
        int radius = Radius, stride = width + 2 * radius, padded = height * stride;
        // Horizontal: rows[i] = Σ_k w_k · noise[i + k − R]; correct wherever i is a pixel (not a margin) of its row.
        int span = padded - 2 * radius;
        var target = rows.Slice(radius, span);
        TensorPrimitives.Multiply(noise.Slice(0, span), _weights[0], target);
        for (int k = 1; k < _weights.Length; k++)
            TensorPrimitives.MultiplyAdd(noise.Slice(k, span), _weights[k], target, target);
        // Vertical: noise[y] = Σ_k w_k · rows[y + k − R] over the rows inside the image (zero outside).
        noise.Clear();
        for (int k = 0; k < _weights.Length; k++)
        {
            int offset = k - radius;
            int firstRow = Math.Max(0, -offset), endRow = Math.Min(height, height - offset);
            if (firstRow >= endRow) continue;
            var sum = noise.Slice(firstRow * stride, (endRow - firstRow) * stride);
            TensorPrimitives.MultiplyAdd(rows.Slice((firstRow + offset) * stride, sum.Length), _weights[k], sum, sum);
        }
        for (int y = 0; y < height; y++)
            TensorPrimitives.Multiply(noise.Slice(y * stride + radius, width), (float)Alpha, field.Slice(y * width, width));
    }

    /// <summary>
    /// The obviously-correct twin of <see cref="Fill"/>: the same noise, smoothed by the full 2-D truncated Gaussian at every
    /// pixel, in double precision. Tests compare the two.
    /// </summary>
    internal void FillReference(Span<float> dx, Span<float> dy, int height, int width, int seed, int firstDraw)
    {
        int pixels = height * width, radius = Radius;
        for (int axis = 0; axis < 2; axis++)
        {
            var field = axis == 0 ? dx : dy;
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double sum = 0;
                    for (int v = -radius; v <= radius; v++)
                        for (int u = -radius; u <= radius; u++)
                        {
                            int sy = y + v, sx = x + u;
                            if ((uint)sy >= (uint)height || (uint)sx >= (uint)width) continue;
                            double noise = (float)RandomAffine.Uniform(seed, firstDraw + axis * pixels + sy * width + sx);
                            sum += (double)_weights[v + radius] * _weights[u + radius] * noise;
                        }
                    field[y * width + x] = (float)(sum * Alpha);
                }
        }
    }

    /// <summary>exp(−k²/2σ²) for k in [−3σ, 3σ], normalised to sum 1.</summary>
    private static float[] GaussianWeights(double sigma)
    {
        int radius = (int)Math.Ceiling(3 * sigma);
        var weights = new double[2 * radius + 1];
        for (int k = -radius; k <= radius; k++) weights[k + radius] = Math.Exp(-k * k / (2 * sigma * sigma));
        double total = weights.Sum();
        return weights.Select(w => (float)(w / total)).ToArray();
    }
}
