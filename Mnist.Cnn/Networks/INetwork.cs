using Mnist.Core.Data;
using Mnist.Core.Numerics;

namespace Mnist.Cnn.Networks;

/// <summary>
/// A <see cref="NetworkSpec"/> compiled by a backend: forward and backward over host mini-batches
/// (NHWC pixels in, batch × classes logits out). The weights of every backend live in <see cref="Host"/>,
/// our own layers, in one fixed order: the shared optimizer updates them there, checkpoints and model
/// files read and write them there, and a backend that computes elsewhere takes them from there before
/// each forward and returns gradients and running statistics there.
/// </summary>
internal interface INetwork
{
    /// <summary>The parameters (values and gradients) and non-trainable state, with the layers' shapes.</summary>
    Sequential Host { get; }

    /// <summary>Runs a batch; returns batch × classes logits, valid until the next call.</summary>
    ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch, bool training);

    /// <summary>Back-propagates d(loss)/d(logits) of the last training <see cref="Forward"/>, overwriting every parameter's gradient in <see cref="Host"/>.</summary>
    void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int batch);
}

internal static class NetworkPrediction
{
    /// <summary>Images per forward pass when predicting.</summary>
    public const int Batch = 256;

    /// <summary>Softmax probabilities for every image of <paramref name="data"/> (count × classes), in large batches.</summary>
    public static void PredictProbabilities(this INetwork network, DigitDataView data, Span<float> probabilities, int batchSize = Batch)
    {
        Core.Training.IncompatibleDataException.ThrowIfPixelCount(network.Host.InputShape.Size, data);
        int classes = network.Host.OutputShape.Size;
        foreach (var batch in data.OrderedBatches(batchSize))
        {
            ReadOnlySpan<float> logits = network.Forward(batch.Pixels, batch.Count, training: false);
            Span<float> destination = probabilities.Slice(batch.Offset * classes, batch.Count * classes);
            logits.CopyTo(destination);
            Kernels.SoftmaxRows(destination, classes);
        }
    }
}
