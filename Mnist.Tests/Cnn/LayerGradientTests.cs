using Mnist.Cnn.Layers;
using Mnist.Cnn.Training;

namespace Mnist.Tests.Cnn;

/// <summary>
/// Every layer's Backward against central finite differences of its Forward. The scalar checked is
/// L = Σ R ⊙ y for a fixed random R (so dL/dy = R), accumulated in float64. Relative error bound:
/// |analytic − numeric| ≤ 2e-2 · max(|analytic|, |numeric|) + 2e-3.
/// </summary>
public class LayerGradientTests
{
    private const int Batch = 3;

    private static IEnumerable<TestCaseData> Layers()
    {
        yield return new TestCaseData(new Func<Layer>(() => new Dense(5)), new TensorShape(1, 1, 7), 1e-2).SetName("Dense");
        yield return new TestCaseData(new Func<Layer>(() => new Conv2D(4, 3)), new TensorShape(5, 6, 2), 1e-2).SetName("Conv2D 3×3 same");
        yield return new TestCaseData(new Func<Layer>(() => new Conv2D(3, 5)), new TensorShape(6, 5, 1), 1e-2).SetName("Conv2D 5×5 same");
        yield return new TestCaseData(new Func<Layer>(() => new Conv2D(2, 3, Padding.Valid)), new TensorShape(5, 5, 3), 1e-2).SetName("Conv2D 3×3 valid");
        yield return new TestCaseData(new Func<Layer>(() => new Conv2D(2, 2)), new TensorShape(4, 5, 2), 1e-2).SetName("Conv2D 2×2 same (even kernel)");
        yield return new TestCaseData(new Func<Layer>(() => new MaxPool2D(2)), new TensorShape(4, 5, 2), 1e-3).SetName("MaxPool2D");
        yield return new TestCaseData(new Func<Layer>(() => new Relu()), new TensorShape(2, 3, 2), 1e-3).SetName("ReLU");
        yield return new TestCaseData(new Func<Layer>(() => new BatchNorm()), new TensorShape(3, 2, 4), 1e-2).SetName("BatchNorm after conv");
        yield return new TestCaseData(new Func<Layer>(() => new BatchNorm()), new TensorShape(1, 1, 6), 1e-2).SetName("BatchNorm after dense");
        yield return new TestCaseData(new Func<Layer>(() => new Dropout(0.4)), new TensorShape(2, 2, 3), 1e-2).SetName("Dropout");
        yield return new TestCaseData(new Func<Layer>(() => new Flatten()), new TensorShape(2, 2, 3), 1e-2).SetName("Flatten");
    }

    [TestCaseSource(nameof(Layers))]
    public void BackwardMatchesFiniteDifferences(Func<Layer> create, TensorShape inputShape, double step)
    {
        var random = new Random(11);
        var layer = create();
        layer.Build(inputShape, random);
        layer.EnsureCapacity(Batch);
        foreach (var p in layer.Parameters) // non-trivial BatchNorm γ/β and biases
            for (int i = 0; i < p.Length; i++) p.Value[i] += (float)(random.NextDouble() - 0.5);

        // Inputs spaced apart so that ReLU kinks and max-pool ties are farther than the step away.
        int inSize = Batch * inputShape.Size, outSize = Batch * layer.OutputShape.Size;
        var order = Enumerable.Range(0, inSize).OrderBy(_ => random.Next()).ToArray();
        var input = order.Select(o => (float)((o - inSize / 2.0 + 0.5) * 0.05)).ToArray();
        var weights = Enumerable.Range(0, outSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

        double Loss()
        {
            (layer as Dropout)?.Reseed(5);
            var output = new float[outSize];
            layer.Forward(input, output, Batch, training: true);
            double sum = 0;
            for (int i = 0; i < outSize; i++) sum += (double)weights[i] * output[i];
            return sum;
        }

        (layer as Dropout)?.Reseed(5);
        var forwardOutput = new float[outSize];
        layer.Forward(input, forwardOutput, Batch, training: true);
        var inputGradient = new float[inSize];
        layer.Backward(input, forwardOutput, weights, inputGradient, Batch);
        var parameterGradients = layer.Parameters.Select(p => (float[])p.Gradient.Clone()).ToArray();

        void Check(float[] values, float[] analytic, string what)
        {
            foreach (int i in Enumerable.Range(0, values.Length).OrderBy(_ => random.Next()).Take(40))
            {
                float saved = values[i];
                values[i] = (float)(saved + step);
                double plus = Loss();
                values[i] = (float)(saved - step);
                double minus = Loss();
                values[i] = saved;
                double numeric = (plus - minus) / (2 * step);
                Assert.That(analytic[i], Is.EqualTo(numeric).Within(2e-2 * Math.Max(Math.Abs(analytic[i]), Math.Abs(numeric)) + 2e-3),
                    $"{layer.Describe()} d/d{what}[{i}]");
            }
        }

        Check(input, inputGradient, "input");
        for (int p = 0; p < parameterGradients.Length; p++)
            Check(layer.Parameters[p].Value, parameterGradients[p], layer.Parameters[p].Name);
    }

    [TestCase(1)]
    [TestCase(2)]
    public void ConvolutionIsTheSameWithOneOrTwoThreads(int threads)
    {
        float[] Run(int t)
        {
            using var _ = ComputeThreads.Use(t);
            var layer = new Conv2D(8, 3);
            layer.Build(new TensorShape(9, 9, 3), new Random(3));
            var input = Enumerable.Range(0, 5 * 9 * 9 * 3).Select(i => MathF.Sin(i)).ToArray();
            var output = new float[5 * 9 * 9 * 8];
            layer.Forward(input, output, 5, training: true);
            return output;
        }
        Assert.That(Run(threads), Is.EqualTo(Run(1)));
    }

    [Test]
    public void SoftmaxCrossEntropyGradientMatchesFiniteDifferences()
    {
        var random = new Random(2);
        var logits = Enumerable.Range(0, 4 * 10).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        int[] labels = [3, 0, 9, 3];
        foreach (double smoothing in new[] { 0.0, 0.1 })
        {
            var gradient = new float[logits.Length];
            SoftmaxCrossEntropy.Compute(logits, labels, 10, smoothing, gradient);
            for (int i = 0; i < logits.Length; i += 3)
            {
                float saved = logits[i];
                logits[i] = saved + 1e-2f;
                double plus = SoftmaxCrossEntropy.Compute(logits, labels, 10, smoothing, new float[logits.Length]).LossSum / 4;
                logits[i] = saved - 1e-2f;
                double minus = SoftmaxCrossEntropy.Compute(logits, labels, 10, smoothing, new float[logits.Length]).LossSum / 4;
                logits[i] = saved;
                Assert.That(gradient[i], Is.EqualTo((plus - minus) / 2e-2).Within(1e-3), $"logit {i}, smoothing {smoothing}");
            }
        }
    }
}
