using Mnist.Cnn.Layers;

namespace Mnist.Tests.Cnn;

/// <summary>BatchNorm's one-read batch statistics against a double-precision two-pass reference.</summary>
public class BatchNormStatisticsTests
{
    [TestCase(1e3, 1.0)]  // |mean| ≫ std: a naive E[x²] − E[x]² in float would lose every digit
    [TestCase(0.0, 3.0)]
    public void NormalisedChannelsHaveZeroMeanAndTheExpectedVariance(double mean, double std)
    {
        const int batch = 7, channels = 5; // 210 positions (under one block of 256) and 1001 (four blocks, the last short)
        foreach (var shape in new[] { new TensorShape(6, 5, channels), new TensorShape(13, 11, channels) })
        {
            var random = new Random(4);
            var layer = new BatchNorm();
            layer.Build(shape, random);
            int positions = batch * shape.Height * shape.Width;
            var input = Enumerable.Range(0, positions * channels)
                .Select(i => (float)(mean + (i % channels) + std * (random.NextDouble() * 2 - 1) * Math.Sqrt(3))).ToArray();
            var output = new float[input.Length];
            layer.Forward(input, output, batch, training: true);
            for (int c = 0; c < channels; c++)
            {
                double m = 0, v = 0;
                for (int p = 0; p < positions; p++) m += input[p * channels + c];
                m /= positions;
                for (int p = 0; p < positions; p++) v += Math.Pow(input[p * channels + c] - m, 2);
                v /= positions;
                double outMean = 0, outVariance = 0;
                for (int p = 0; p < positions; p++) outMean += output[p * channels + c];
                outMean /= positions;
                for (int p = 0; p < positions; p++) outVariance += Math.Pow(output[p * channels + c] - outMean, 2);
                outVariance /= positions;
                Assert.That(outMean, Is.EqualTo(0).Within(2e-3), $"{shape} channel {c} mean");
                Assert.That(outVariance, Is.EqualTo(v / (v + layer.Epsilon)).Within(2e-3), $"{shape} channel {c} variance");
            }
        }
    }

    [Test]
    public void StatisticsAreTheSameForAnyThreadCount()
    {
        var shape = new TensorShape(14, 14, 32);
        const int batch = 9;
        var random = new Random(5);
        var input = Enumerable.Range(0, batch * shape.Size).Select(_ => (float)(random.NextDouble() * 4 - 1)).ToArray();
        float[] Run(int threads)
        {
            using var _ = ComputeThreads.Use(threads);
            var layer = new BatchNorm();
            layer.Build(shape, new Random(1));
            var output = new float[input.Length];
            layer.Forward(input, output, batch, training: true);
            return output;
        }
        Assert.That(Run(2), Is.EqualTo(Run(1)));
        Assert.That(Run(3), Is.EqualTo(Run(1)));
    }
}
