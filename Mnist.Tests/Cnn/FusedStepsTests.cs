using Mnist.Cnn;
using Mnist.Cnn.Backends.Own;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using Mnist.Cnn.Optimizers;
using Mnist.Cnn.Training;

namespace Mnist.Tests.Cnn;

/// <summary>
/// The own backend's schedule (BatchNorm + ReLU, and a MaxPool after them, fused into one step; Flatten as a view) computes exactly what the
/// layers compute one by one: the same logits, gradients, running statistics and weights after Adam steps, bit for
/// bit; and it stays bit-identical across thread counts.
/// </summary>
public class FusedStepsTests
{
    private const int Batch = 19, Classes = 10;

    /// <summary>
    /// The cnn's pattern on a 13×13 image: BatchNorm + ReLU + MaxPool after convolutions (32 and 20 channels: whole and ragged
    /// vectors; odd sizes, so each pool drops a row and a column), BatchNorm + ReLU after a dense layer.
    /// </summary>
    private static NetworkSpec Spec() => new(new TensorShape(13, 13, 1),
        new Conv2DSpec(32, 5), new BatchNormSpec(), new ReluSpec(), new MaxPoolSpec(2), new DropoutSpec(0.25),
        new Conv2DSpec(20, 3), new BatchNormSpec(), new ReluSpec(), new MaxPoolSpec(2), new DropoutSpec(0.25),
        new FlattenSpec(), new DenseSpec(24), new BatchNormSpec(), new ReluSpec(), new DropoutSpec(0.5),
        new DenseSpec(Classes));

    [Test]
    public void TheOwnBackendFusesBatchNormFollowedByReluAndRunsFlattenAsAView()
    {
        var model = OwnBackend.Build(Spec(), seed: 1);
        Assert.That(model.Layers, Has.Count.EqualTo(Spec().Layers.Count), "the layers stay the spec's");
        string[] steps = model.Steps.Select(s => $"{s.First}:{s.Count}:{s.Layer.Describe()}").ToArray();
        Assert.That(steps, Does.Contain("1:3:BatchNorm+ReLU+MaxPool2D 2×2").And.Contain("6:3:BatchNorm+ReLU+MaxPool2D 2×2").And.Contain("12:2:BatchNorm+ReLU"));
        Assert.That(model.Steps, Has.Count.EqualTo(Spec().Layers.Count - 5));
        Assert.That(model.Steps.Single(s => s.Layer is Flatten).Layer.IsView);
        Assert.That(OwnBackend.Build(Spec(), seed: 1, fuse: false).Steps, Has.Count.EqualTo(Spec().Layers.Count));
    }

    private sealed record Run(float[] Logits, float[] Gradients, float[] Weights, float[] State, float[] Inference);

    /// <summary>Three training steps of <see cref="Spec"/>; with <paramref name="separateBuffers"/>, the layers one by one over buffers of their own (no Sequential, nothing in place).</summary>
    private static Run Train(bool fuse, int threads, bool separateBuffers = false)
    {
        using (ComputeThreads.Use(threads))
        {
            var model = OwnBackend.Build(Spec(), seed: 5, fuse);
            var random = new Random(8);
            var input = Enumerable.Range(0, Batch * 169).Select(_ => (float)random.NextDouble()).ToArray();
            var labels = Enumerable.Range(0, Batch).Select(_ => random.Next(Classes)).ToArray();
            var logitGradient = new float[Batch * Classes];
            var optimizer = new Adam(5e-3);
            var parameters = model.Parameters.ToList();
            float[] logits = [];
            var layers = model.Layers;
            var activations = layers.Select(l => new float[Batch * l.OutputShape.Size]).ToArray();
            var gradients = layers.Select(l => new float[Batch * l.InputShape.Size]).ToArray();
            for (int step = 0; step < 3; step++)
            {
                if (separateBuffers)
                {
                    ReadOnlySpan<float> current = input;
                    for (int i = 0; i < layers.Count; i++)
                    {
                        layers[i].Forward(current, activations[i], Batch, training: true);
                        current = activations[i];
                    }
                    logits = activations[^1];
                    SoftmaxCrossEntropy.Compute(logits, labels, Classes, 0, logitGradient);
                    ReadOnlySpan<float> gradient = logitGradient;
                    for (int i = layers.Count - 1; i >= 0; i--)
                    {
                        layers[i].Backward(i == 0 ? input : activations[i - 1], activations[i], gradient, i == 0 ? [] : gradients[i], Batch);
                        gradient = i == 0 ? [] : gradients[i];
                    }
                }
                else
                {
                    logits = model.Forward(input, Batch, training: true).ToArray();
                    SoftmaxCrossEntropy.Compute(logits, labels, Classes, 0, logitGradient);
                    model.Backward(input, logitGradient, Batch);
                }
                if (step < 2) optimizer.Step(parameters);
            }
            return new Run(logits, parameters.SelectMany(p => p.Gradient).ToArray(), parameters.SelectMany(p => p.Value).ToArray(),
                model.Layers.SelectMany(l => l.State).SelectMany(s => s).ToArray(), model.Forward(input, Batch, training: false).ToArray());
        }
    }

    private static void AssertSame(Run actual, Run expected, string what)
    {
        Assert.That(actual.Logits, Is.EqualTo(expected.Logits), $"{what}: training logits");
        Assert.That(actual.Gradients, Is.EqualTo(expected.Gradients), $"{what}: gradients");
        Assert.That(actual.Weights, Is.EqualTo(expected.Weights), $"{what}: weights");
        Assert.That(actual.State, Is.EqualTo(expected.State), $"{what}: running statistics");
        Assert.That(actual.Inference, Is.EqualTo(expected.Inference), $"{what}: inference logits");
    }

    [Test]
    public void FusedStepsComputeExactlyWhatTheLayersComputeOneByOne()
    {
        var layers = Train(fuse: false, threads: 2);
        Assert.That(layers.Gradients.Count(g => g != 0), Is.GreaterThan(layers.Gradients.Length / 2), "gradients flow");
        AssertSame(Train(fuse: true, threads: 2), layers, "fused");
    }

    /// <summary>Sequential's buffer plan (views, gradients overwritten in place) against every layer run on buffers of its own.</summary>
    [Test]
    public void TheSequentialBufferPlanComputesWhatSeparateBuffersDo() =>
        AssertSame(Train(fuse: false, threads: 2), Train(fuse: false, threads: 2, separateBuffers: true), "in place");

    [Test]
    public void FusedTrainingIsTheSameForAnyThreadCount()
    {
        var one = Train(fuse: true, threads: 1);
        AssertSame(Train(fuse: true, threads: 2), one, "2 threads");
        AssertSame(Train(fuse: true, threads: 3), one, "3 threads");
    }

    /// <summary>
    /// A 3×3 pool on 11×11 images drops the last column; with 15 images a block of the fused backward (256 positions)
    /// starts in that dropped column, in the last pooled row of the last image, where nothing of dy is left to read.
    /// </summary>
    [Test]
    public void AFusedBackwardWhoseBlockStartsInADroppedColumnAtTheEndOfTheBatch()
    {
        const int batch = 15;
        var spec = new NetworkSpec(new TensorShape(11, 11, 1), new Conv2DSpec(4, 3), new BatchNormSpec(), new ReluSpec(), new MaxPoolSpec(3),
            new FlattenSpec(), new DenseSpec(Classes));
        var random = new Random(3);
        var input = Enumerable.Range(0, batch * 121).Select(_ => (float)random.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, batch).Select(i => i % Classes).ToArray();
        float[] Gradients(bool fuse)
        {
            var model = OwnBackend.Build(spec, seed: 2, fuse);
            var logitGradient = new float[batch * Classes];
            SoftmaxCrossEntropy.Compute(model.Forward(input, batch, training: true), labels, Classes, 0, logitGradient);
            model.Backward(input, logitGradient, batch);
            return model.Parameters.SelectMany(p => p.Gradient).ToArray();
        }
        var layers = Gradients(fuse: false);
        Assert.That(layers.Count(g => g != 0), Is.GreaterThan(layers.Length / 2), "gradients flow");
        Assert.That(Gradients(fuse: true), Is.EqualTo(layers));
    }

    /// <summary>
    /// Seeded random networks of the fused pattern (image sizes 3..15, pools 2..5, 'same' and 'valid' kernels 1..5, 1..39
    /// filters, batches 1..29, 1..3 threads): the fused steps give the logits and gradients of the layers one by one on one
    /// thread, bit for bit. Block edges of the fused backward land anywhere in the images, dropped rows and columns included.
    /// </summary>
    [Test]
    public void FusedStepsEqualTheLayersOnRandomShapes()
    {
        var random = new Random(123);
        var failures = new List<string>();
        for (int trial = 0; trial < 1500; trial++)
        {
            int height = random.Next(3, 16), width = random.Next(3, 16), pool = Math.Min(5, random.Next(2, Math.Min(height, width) + 1));
            int filters = random.Next(1, 40), batch = random.Next(1, 30), threads = random.Next(1, 4), kernel = random.Next(1, 6);
            var padding = random.Next(2) == 0 || height - kernel + 1 < pool || width - kernel + 1 < pool ? Padding.Same : Padding.Valid;
            var layers = new List<LayerSpec> { new Conv2DSpec(filters, kernel, padding), new BatchNormSpec(), new ReluSpec(), new MaxPoolSpec(pool), new DropoutSpec(0.3) };
            if (random.Next(2) == 0) layers.AddRange([new Conv2DSpec(random.Next(1, 20), 1), new BatchNormSpec(), new ReluSpec()]);
            layers.AddRange([new FlattenSpec(), new DenseSpec(7), new BatchNormSpec(), new ReluSpec(), new DenseSpec(Classes)]);
            var spec = new NetworkSpec(new TensorShape(height, width, 1), layers);
            var input = Enumerable.Range(0, batch * height * width).Select(_ => (float)random.NextDouble()).ToArray();
            var labels = Enumerable.Range(0, batch).Select(i => i % Classes).ToArray();
            (float[] Logits, float[] Gradients) Step(bool fuse, int threadCount)
            {
                using (ComputeThreads.Use(threadCount))
                {
                    var model = OwnBackend.Build(spec, seed: 2, fuse);
                    var logitGradient = new float[batch * Classes];
                    var logits = model.Forward(input, batch, training: true).ToArray();
                    SoftmaxCrossEntropy.Compute(logits, labels, Classes, 0, logitGradient);
                    model.Backward(input, logitGradient, batch);
                    return (logits, model.Parameters.SelectMany(p => p.Gradient).ToArray());
                }
            }
            string what = $"{height}×{width}, {kernel}×{kernel} {padding}, {filters} filters, pool {pool}, batch {batch}, {threads} threads";
            try
            {
                var (logits, gradients) = Step(fuse: false, threadCount: 1);
                var fused = Step(fuse: true, threads);
                if (!fused.Logits.AsSpan().SequenceEqual(logits)) failures.Add($"{what}: logits");
                if (!fused.Gradients.AsSpan().SequenceEqual(gradients)) failures.Add($"{what}: gradients");
            }
            catch (Exception e)
            {
                failures.Add($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void AFlattenFirstIsCopiedAndAScheduleMustCoverTheLayersInOrder()
    {
        var model = new Sequential(new TensorShape(2, 3, 2), new Flatten(), new Dense(4)).Build(3);
        var input = Enumerable.Range(0, 2 * 12).Select(i => i * 0.1f).ToArray();
        var viaFlatten = model.Forward(input, 2, training: false).ToArray();
        var dense = new Sequential(new TensorShape(1, 1, 12), new Dense(4)).Build(3);
        Assert.That(viaFlatten, Is.EqualTo(dense.Forward(input, 2, training: false).ToArray()));

        var norm = new BatchNorm();
        var other = new Sequential(new TensorShape(1, 1, 4), norm, new Relu(), new Dense(2)).Build(1);
        Assert.Throws<ArgumentException>(() => other.Schedule([new SequentialStep(new BatchNormRelu(norm), 0, 2)]), "a layer left out");
        Assert.Throws<ArgumentException>(() => other.Schedule([new SequentialStep(other.Layers[0], 0, 1), new SequentialStep(other.Layers[2], 2, 1)]), "a gap");
    }
}
