using Mnist.Cnn;
using Mnist.Cnn.Layers;
using static Mnist.Onnx.GraphBuilder;

namespace Mnist.Onnx;

/// <summary>
/// A <see cref="Sequential"/> network as ONNX operators, inference only: Conv (NCHW, weights reordered from our
/// (ky, kx, cin) × filters layout), Gemm, Relu, MaxPool; BatchNorm folded into the Conv or Gemm before it (or a
/// per-channel Mul/Add when nothing precedes it); Dropout dropped (inverted dropout is the identity at inference).
/// </summary>
/// <remarks>
/// Our activations are channels-last. The graph keeps a flat [N, H·W·C] tensor in that order between dense
/// layers and switches to NCHW (Reshape + Transpose) for convolutions and pooling, back (Transpose + Flatten)
/// before a dense layer, so the flattened order — and with it the dense weights — is ours unchanged.
/// </remarks>
internal static class NeuralGraph
{
    /// <summary>Adds the network over <paramref name="pixels"/> ([N, InputShape.Size]); returns the logits [N, classes].</summary>
    public static string Logits(GraphBuilder g, string pixels, Sequential network)
    {
        string x = pixels;
        bool spatial = false; // true: x is NCHW [N, C, H, W]; false: x is [N, H·W·C] in channels-last order
        var layers = network.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var batchNorm = i + 1 < layers.Count ? layers[i + 1] as BatchNorm : null;
            switch (layer)
            {
                case Conv2D conv:
                {
                    if (!spatial) (x, spatial) = (ToChannelsFirst(g, x, conv.InputShape), true);
                    var (weights, bias) = ConvWeights(conv);
                    if (batchNorm is not null)
                    {
                        Fold(batchNorm, weights, bias, weightsPerOutput: weights.Length / conv.Filters, outputMajor: true);
                        i++;
                    }
                    int k = conv.KernelSize, cin = conv.InputShape.Channels;
                    int before = conv.Padding == Padding.Same ? (k - 1) / 2 : 0, after = conv.Padding == Padding.Same ? k - 1 - before : 0;
                    x = g.Node("Conv", [x, g.Floats("conv_w", weights, conv.Filters, cin, k, k), g.Floats("conv_b", bias, conv.Filters)], null,
                        Ints("kernel_shape", [k, k]), Ints("pads", [before, before, after, after]), Ints("strides", [1, 1]));
                    break;
                }
                case Dense dense:
                {
                    if (spatial) (x, spatial) = (ToChannelsLast(g, x), false);
                    float[] weights = (float[])dense.Parameters[0].Value.Clone(); // inputs × units
                    float[] bias = (float[])dense.Parameters[1].Value.Clone();
                    if (batchNorm is not null)
                    {
                        Fold(batchNorm, weights, bias, weightsPerOutput: dense.InputShape.Size, outputMajor: false);
                        i++;
                    }
                    x = g.Node("Gemm", [x, g.Floats("dense_w", weights, dense.InputShape.Size, dense.Units), g.Floats("dense_b", bias, dense.Units)]);
                    break;
                }
                case BatchNorm alone:
                    x = ScaleShift(g, x, alone, spatial);
                    break;
                case Relu:
                    x = g.Node("Relu", [x]);
                    break;
                case MaxPool2D pool:
                    if (!spatial) (x, spatial) = (ToChannelsFirst(g, x, pool.InputShape), true);
                    x = g.Node("MaxPool", [x], null, Ints("kernel_shape", [pool.Pool, pool.Pool]), Ints("strides", [pool.Pool, pool.Pool]));
                    break;
                case Flatten:
                    if (spatial) (x, spatial) = (ToChannelsLast(g, x), false);
                    break;
                case Dropout:
                    break;
                default:
                    throw new NotExportableException($"the layer '{layer.Describe()}' has no ONNX equivalent in this writer");
            }
        }
        return spatial ? ToChannelsLast(g, x) : x;
    }

    /// <summary>Our Conv2D weights W[(ky, kx, ci), co] as ONNX's [co, ci, ky, kx], and a copy of the bias.</summary>
    private static (float[] Weights, float[] Bias) ConvWeights(Conv2D conv)
    {
        int k = conv.KernelSize, cin = conv.InputShape.Channels, filters = conv.Filters;
        float[] ours = conv.Parameters[0].Value;
        var onnx = new float[ours.Length];
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int ci = 0; ci < cin; ci++)
                    for (int co = 0; co < filters; co++)
                        onnx[((co * cin + ci) * k + ky) * k + kx] = ours[((ky * k + kx) * cin + ci) * filters + co];
        return (onnx, (float[])conv.Parameters[1].Value.Clone());
    }

    /// <summary>The inference-time y = x·scale + shift of a BatchNorm, computed as <see cref="BatchNorm.Forward"/> does.</summary>
    private static (float[] Scale, float[] Shift) InferenceAffine(BatchNorm batchNorm)
    {
        float[] gamma = batchNorm.Parameters[0].Value, beta = batchNorm.Parameters[1].Value;
        float[] mean = batchNorm.State[0], variance = batchNorm.State[1];
        var scale = new float[gamma.Length];
        var shift = new float[gamma.Length];
        for (int c = 0; c < gamma.Length; c++)
        {
            float inverseStd = (float)(1 / Math.Sqrt(variance[c] + batchNorm.Epsilon));
            scale[c] = gamma[c] * inverseStd;
            shift[c] = beta[c] - mean[c] * scale[c];
        }
        return (scale, shift);
    }

    /// <summary>
    /// Folds a BatchNorm into the layer before it: w' = w·scale[o], b' = b·scale[o] + shift[o]. Weights are
    /// output-major (ONNX Conv: o × rest) or input-major (our Dense: inputs × outputs).
    /// </summary>
    private static void Fold(BatchNorm batchNorm, float[] weights, float[] bias, int weightsPerOutput, bool outputMajor)
    {
        var (scale, shift) = InferenceAffine(batchNorm);
        int outputs = bias.Length;
        for (int o = 0; o < outputs; o++)
        {
            for (int j = 0; j < weightsPerOutput; j++)
                weights[outputMajor ? o * weightsPerOutput + j : j * outputs + o] *= scale[o];
            bias[o] = bias[o] * scale[o] + shift[o];
        }
    }

    /// <summary>A BatchNorm with no layer to fold into: a per-channel Mul and Add.</summary>
    private static string ScaleShift(GraphBuilder g, string x, BatchNorm batchNorm, bool spatial)
    {
        var (scale, shift) = InferenceAffine(batchNorm);
        var shape = batchNorm.InputShape;
        if (spatial)
        {
            string s = g.Floats("bn_scale", scale, 1, shape.Channels, 1, 1), t = g.Floats("bn_shift", shift, 1, shape.Channels, 1, 1);
            return g.Node("Add", [g.Node("Mul", [x, s]), t]);
        }
        // Flat channels-last: the per-channel values repeat every Channels elements.
        int size = shape.Size, channels = shape.Channels;
        var fullScale = new float[size];
        var fullShift = new float[size];
        for (int j = 0; j < size; j++) (fullScale[j], fullShift[j]) = (scale[j % channels], shift[j % channels]);
        return g.Node("Add", [g.Node("Mul", [x, g.Floats("bn_scale", fullScale, size)]), g.Floats("bn_shift", fullShift, size)]);
    }

    private static string ToChannelsFirst(GraphBuilder g, string flat, TensorShape shape)
    {
        string nhwc = g.Node("Reshape", [flat, g.Int64s("nhwc_shape", [-1, shape.Height, shape.Width, shape.Channels], 4)]);
        return g.Node("Transpose", [nhwc], null, Ints("perm", [0, 3, 1, 2]));
    }

    private static string ToChannelsLast(GraphBuilder g, string nchw) =>
        g.Node("Flatten", [g.Node("Transpose", [nchw], null, Ints("perm", [0, 2, 3, 1]))], null, Int("axis", 1));
}
