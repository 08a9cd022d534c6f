using Mnist.Core.Numerics;
namespace Mnist.Cnn.Training;

/// <summary>Softmax followed by cross-entropy against (optionally smoothed) one-hot labels, fused for a stable gradient.</summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>
    /// For logits (batch × classes) writes d(mean loss)/d(logits) = (softmax − target)/batch into
    /// <paramref name="gradient"/> and returns the summed loss and the number of correct argmax predictions.
    /// With smoothing ε the target is (1−ε)·onehot + ε/classes.
    /// </summary>
    public static (double LossSum, int Correct) Compute(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, double smoothing, Span<float> gradient)
    {
        int batch = labels.Length;
        double lossSum = 0;
        int correct = 0;
        float off = (float)(smoothing / classes);
        float on = (float)(1 - smoothing) + off;
        float scale = 1f / batch;
        Span<double> probabilities = stackalloc double[classes];
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> row = logits.Slice(b * classes, classes);
            Span<float> g = gradient.Slice(b * classes, classes);
            int best = Kernels.ArgMax(row);
            float max = row[best];
            if (best == labels[b]) correct++;
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += probabilities[c] = Math.Exp(row[c] - max);
            double logSum = Math.Log(sum);
            for (int c = 0; c < classes; c++)
            {
                float target = c == labels[b] ? on : off;
                double logP = row[c] - max - logSum;
                lossSum -= target * logP;
                g[c] = (float)(probabilities[c] / sum - target) * scale;
            }
        }
        return (lossSum, correct);
    }
}
