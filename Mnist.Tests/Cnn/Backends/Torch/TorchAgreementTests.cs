using Mnist.Cnn;
using Mnist.Cnn.Backends.Torch;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Optimizers;
using Mnist.Cnn.Training;
using Mnist.Core.Numerics;
using TorchSharp;
using Padding = Mnist.Cnn.Layers.Padding;
using static TorchSharp.torch;

namespace Mnist.Tests.Cnn.Backends.Torch;

/// <summary>
/// Our engine against LibTorch on the same tiny network (Conv2D → ReLU → Flatten → Dense) with the same
/// weights: forward outputs agree within 1e-4, and a few SGD steps from the same start give the same losses.
/// Ours is NHWC with conv weights (ky, kx, ci) × co and dense weights inputs × units; LibTorch is NCHW with
/// [co, ci, ky, kx] and [units, inputs], so weights and activations are permuted across.
/// </summary>
public class TorchAgreementTests
{
    private const int Batch = 6, Height = 7, Width = 6, Channels = 2, Filters = 4, Classes = 5;

    [OneTimeSetUp]
    public void LoadLibTorch()
    {
        var status = TorchRuntime.EnsureLoaded();
        if (!status.IsAvailable) Assert.Fail(status.Failure!);
    }

    [TestCase(3, Padding.Same)]
    [TestCase(5, Padding.Valid)]
    public void ForwardOutputsMatch(int kernel, Padding padding)
    {
        var ours = Network(kernel, padding, seed: 3);
        float[] images = Random(Batch * Height * Width * Channels, seed: 4);
        float[] expected = ours.Forward(images, Batch, training: false).ToArray();

        using var scope = NewDisposeScope();
        var mirror = new TorchMirror(ours, kernel, padding);
        float[] actual = mirror.Forward(images).data<float>().ToArray();

        Assert.That(actual, Has.Length.EqualTo(Batch * Classes));
        Assert.That(actual, Is.EqualTo(expected).Within(1e-4f));
        Assert.That(expected.Max() - expected.Min(), Is.GreaterThan(0.1f), "outputs spread enough to compare");
    }

    [Test]
    public void SgdStepsFromTheSameWeightsGiveTheSameLosses()
    {
        const int kernel = 3, steps = 6;
        const double learningRate = 0.05, momentum = 0.9;
        var ours = Network(kernel, Padding.Same, seed: 5);
        float[][] batches = [Random(Batch * Height * Width * Channels, seed: 6), Random(Batch * Height * Width * Channels, seed: 7)];
        int[][] labels = [[0, 1, 2, 3, 4, 0], [4, 3, 2, 1, 0, 1]];

        using var scope = NewDisposeScope();
        var mirror = new TorchMirror(ours, kernel, Padding.Same);
        var torchOptimizer = optim.SGD(mirror.Parameters, learningRate, momentum);
        var ourOptimizer = new Sgd(learningRate, momentum);
        float[] gradient = new float[Batch * Classes];
        var ourLosses = new List<double>();
        var torchLosses = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            float[] images = batches[step % 2];
            int[] y = labels[step % 2];

            var logits = ours.Forward(images, Batch, training: true);
            var (lossSum, _) = SoftmaxCrossEntropy.Compute(logits, y, Classes, smoothing: 0, gradient);
            ours.Backward(images, gradient, Batch);
            ourOptimizer.Step(ours.Parameters);
            ourLosses.Add(lossSum / Batch);

            torchOptimizer.zero_grad();
            var loss = nn.functional.cross_entropy(mirror.Forward(images), tensor(y.Select(l => (long)l).ToArray()));
            loss.backward();
            torchOptimizer.step();
            torchLosses.Add(loss.item<float>());
        }

        Assert.That(torchLosses, Is.EqualTo(ourLosses).Within(1e-4));
        Assert.That(ourLosses[^1], Is.LessThan(ourLosses[1] * 0.8), "the steps actually trained");
        float[] ourDense = ours.Layers[3].Parameters[0].Value;
        float[] torchDense = mirror.Parameters[2].t().contiguous().data<float>().ToArray();
        Assert.That(torchDense, Is.EqualTo(ourDense).Within(1e-4f), "dense weights after the steps");
    }

    [Test]
    public void IntraOpThreadsFollowComputeSettings()
    {
        int saved = ComputeSettings.Threads;
        try
        {
            ComputeSettings.Threads = 1;
            Assert.That(TorchRuntime.EnsureLoaded().IsAvailable, Is.True);
            Assert.That(torch.get_num_threads(), Is.EqualTo(1));
            ComputeSettings.Threads = 2;
            TorchRuntime.EnsureLoaded();
            Assert.That(torch.get_num_threads(), Is.EqualTo(2));
        }
        finally
        {
            ComputeSettings.Threads = saved;
            TorchRuntime.EnsureLoaded();
        }
    }

    private static Sequential Network(int kernel, Padding padding, int seed) =>
        new Sequential(new TensorShape(Height, Width, Channels),
            new Conv2D(Filters, kernel, padding), new Relu(), new Flatten(), new Dense(Classes)).Build(seed);

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>The same network as LibTorch tensors, weights copied from ours.</summary>
    private sealed class TorchMirror
    {
        private readonly int _padding;

        public TorchMirror(Sequential ours, int kernel, Padding padding)
        {
            var conv = ours.Layers[0].Parameters;
            var dense = ours.Layers[3].Parameters;
            int inputs = ours.Layers[3].InputShape.Size;
            _padding = padding == Padding.Same ? (kernel - 1) / 2 : 0;
            // (ky, kx, ci, co) → [co, ci, ky, kx]; (i, u) → [u, i]
            var convWeights = tensor(conv[0].Value, [kernel, kernel, Channels, Filters]).permute(3, 2, 0, 1).contiguous();
            var denseWeights = tensor(dense[0].Value, [inputs, Classes]).t().contiguous();
            Parameters = [Trainable(convWeights), Trainable(tensor(conv[1].Value)), Trainable(denseWeights), Trainable(tensor(dense[1].Value))];
        }

        public TorchSharp.Modules.Parameter[] Parameters { get; }

        public Tensor Forward(float[] imagesNhwc)
        {
            var x = tensor(imagesNhwc, [Batch, Height, Width, Channels]).permute(0, 3, 1, 2);
            var y = nn.functional.relu(nn.functional.conv2d(x, Parameters[0], Parameters[1], padding: [_padding, _padding]));
            var flat = y.permute(0, 2, 3, 1).reshape(Batch, -1); // back to our NHWC order before the dense layer
            return nn.functional.linear(flat, Parameters[2], Parameters[3]);
        }

        private static TorchSharp.Modules.Parameter Trainable(Tensor value) => new(value.detach().clone().MoveToOuterDisposeScope());
    }
}
