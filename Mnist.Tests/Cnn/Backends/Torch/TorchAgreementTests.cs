using Mnist.Cnn;
using Mnist.Cnn.Backends.Own;
using Mnist.Cnn.Backends.Torch;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using Mnist.Cnn.Training;
using Mnist.Core.Training;
using TorchSharp;
using Padding = Mnist.Cnn.Layers.Padding;

namespace Mnist.Tests.Cnn.Backends.Torch;

/// <summary>
/// Our engine against LibTorch through the backend seam: the same <see cref="NetworkSpec"/> over the same
/// weights (the torch network reads the host's) gives the same logits within 1e-4 in inference and in
/// training (same dropout masks, batch statistics), the same gradients and BatchNorm statistics, and the
/// shared trainer takes the same steps on both.
/// </summary>
public class TorchAgreementTests
{
    private const int Batch = 6, Classes = 5;

    [OneTimeSetUp]
    public void LoadLibTorch()
    {
        var status = TorchRuntime.EnsureLoaded();
        if (!status.IsAvailable) Assert.Fail(status.Failure!);
    }

    private static IEnumerable<TestCaseData> Networks()
    {
        var image = new TensorShape(8, 7, 2);
        yield return new TestCaseData(new NetworkSpec(image, new Conv2DSpec(4, 3), new ReluSpec(), new FlattenSpec(), new DenseSpec(Classes))).SetArgDisplayNames("conv 3 same");
        yield return new TestCaseData(new NetworkSpec(image, new Conv2DSpec(4, 5, Padding.Valid), new ReluSpec(), new DenseSpec(Classes))).SetArgDisplayNames("conv 5 valid, dense on an image");
        yield return new TestCaseData(new NetworkSpec(image, new Conv2DSpec(3, 4), new ReluSpec(), new FlattenSpec(), new DenseSpec(Classes))).SetArgDisplayNames("conv 4 same (uneven padding)");
        yield return new TestCaseData(new NetworkSpec(image,
            new Conv2DSpec(4, 3), new BatchNormSpec(), new ReluSpec(), new MaxPoolSpec(2), new DropoutSpec(0.25),
            new Conv2DSpec(6, 3), new BatchNormSpec(), new ReluSpec(), new MaxPoolSpec(2), new DropoutSpec(0.25),
            new FlattenSpec(), new DenseSpec(12), new BatchNormSpec(), new ReluSpec(), new DropoutSpec(0.5), new DenseSpec(Classes)))
            .SetArgDisplayNames("cnn: batchnorm, pools, dropout");
        yield return new TestCaseData(new NetworkSpec(new TensorShape(5, 5, 1), new DenseSpec(9), new ReluSpec(), new DropoutSpec(0.2), new DenseSpec(Classes))).SetArgDisplayNames("mlp");
    }

    [TestCaseSource(nameof(Networks))]
    public void InferenceOutputsMatch(NetworkSpec spec)
    {
        var host = Initialised(spec);
        var torchNetwork = NeuralBackend.Torch.Bind(spec, host);
        float[] images = Random(Batch * spec.Input.Size, seed: 4);

        float[] expected = host.Forward(images, Batch, training: false).ToArray();
        float[] actual = torchNetwork.Forward(images, Batch, training: false).ToArray();

        Assert.That(actual, Has.Length.EqualTo(Batch * Classes));
        Assert.That(actual, Is.EqualTo(expected).Within(1e-4f));
        Assert.That(expected.Max() - expected.Min(), Is.GreaterThan(0.1f), "outputs spread enough to compare");
    }

    [TestCaseSource(nameof(Networks))]
    public void TrainingForwardAndGradientsMatch(NetworkSpec spec) => TrainingStepsMatch(spec, Batch);

    /// <summary>A last batch of one image: BatchNorm after a dense layer sees one value per channel (LibTorch's own batch_norm refuses it).</summary>
    [Test]
    public void ABatchOfOneImageTrainsAlike() => TrainingStepsMatch((NetworkSpec)Networks().ElementAt(3).Arguments[0]!, 1);

    private static void TrainingStepsMatch(NetworkSpec spec, int batch)
    {
        var host = Initialised(spec);
        var torchNetwork = NeuralBackend.Torch.Bind(spec, host);
        float[] images = Random(batch * spec.Input.Size, seed: 8);
        int[] labels = new[] { 0, 1, 2, 3, 4, 0 }[..batch];
        var dropouts = host.Layers.OfType<Dropout>().ToArray();
        var gradient = new float[batch * Classes];

        (float[] Logits, float[][] Gradients, float[][] State) Step(INetwork network)
        {
            for (int d = 0; d < dropouts.Length; d++) dropouts[d].Reseed(100 + d); // the same masks for both
            float[] logits = network.Forward(images, batch, training: true).ToArray();
            SoftmaxCrossEntropy.Compute(logits, labels, Classes, smoothing: 0, gradient);
            network.Backward(images, gradient, batch);
            return (logits, host.Parameters.Select(p => (float[])p.Gradient.Clone()).ToArray(), host.Layers.SelectMany(l => l.State).Select(s => (float[])s.Clone()).ToArray());
        }

        float[][] stateBefore = host.Layers.SelectMany(l => l.State).Select(s => (float[])s.Clone()).ToArray();
        var ours = Step(host);
        for (int i = 0; i < stateBefore.Length; i++) stateBefore[i].CopyTo(host.Layers.SelectMany(l => l.State).ElementAt(i), 0);
        var theirs = Step(torchNetwork);

        Assert.That(theirs.Logits, Is.EqualTo(ours.Logits).Within(1e-4f), "training logits");
        for (int i = 0; i < ours.Gradients.Length; i++)
        {
            float scale = Math.Max(0.1f, ours.Gradients[i].Max(Math.Abs)); // relative, with a floor for gradients that are rounding noise around 0
            Assert.That(theirs.Gradients[i], Is.EqualTo(ours.Gradients[i]).Within(1e-4f * scale), $"gradient of parameter {i} ({host.Parameters.ElementAt(i).Name})");
        }
        for (int i = 0; i < ours.State.Length; i++)
            Assert.That(theirs.State[i], Is.EqualTo(ours.State[i]).Within(1e-4f), $"BatchNorm statistics {i}");
    }

    /// <summary>
    /// The shared trainer (loop, loss, Adam, schedule, dropout masks) on both backends from the same seed: the
    /// same losses epoch by epoch. Float rounding differs (LibTorch sums in other orders), and Adam's early steps
    /// magnify it in the cnn's BatchNorm layers, hence 1 % there.
    /// </summary>
    [TestCase("mlp", 512, 3, 1e-4)]
    [TestCase("cnn", 128, 2, 1e-2)]
    [TestCase("cnn-vgg", 128, 2, 1e-2)]
    public void TheSameRecipeTrainsTheSameOnBothBackends(string network, int images, int epochs, double relative)
    {
        var train = TestData.Mnist.Train.Take(images).Materialize();
        var settings = new Dictionary<string, string> { ["epochs"] = $"{epochs}", ["batch-size"] = "64", ["augment"] = "false" };
        var catalog = new TrainerCatalog().AddNeuralNetworks();
        var ours = (NeuralModel)catalog.Create(network, settings).Fit(train);
        var theirs = (NeuralModel)catalog.Create("torch-" + network, settings).Fit(train);

        Assert.That(theirs.Engine, Is.EqualTo("TorchSharp 0.107 / LibTorch 2.10"));
        Assert.That(ours.Engine, Is.EqualTo("own"));
        var ourLosses = ours.History!.Epochs.Select(e => e.TrainLoss).ToArray();
        var theirLosses = theirs.History!.Epochs.Select(e => e.TrainLoss).ToArray();
        TestContext.Out.WriteLine($"{network}: own {string.Join(", ", ourLosses)}; torch {string.Join(", ", theirLosses)}");
        for (int e = 0; e < epochs; e++) Assert.That(theirLosses[e], Is.EqualTo(ourLosses[e]).Within(relative * ourLosses[e]), $"epoch {e + 1}");
        Assert.That(ourLosses[^1], Is.LessThan(ourLosses[0] * 0.9), "the steps actually trained");
        var test = TestData.Mnist.Test!.Take(100);
        Assert.That(theirs.PredictProbabilities(test), Is.EqualTo(ours.PredictProbabilities(test)).Within(20 * relative), "the two models predict alike");
    }

    [Test]
    public void IntraOpThreadsFollowComputeSettings()
    {
        try
        {
            using (ComputeThreads.Use(1))
            {
                Assert.That(TorchRuntime.EnsureLoaded().IsAvailable, Is.True);
                Assert.That(torch.get_num_threads(), Is.EqualTo(1));
            }
            using (ComputeThreads.Use(2))
            {
                TorchRuntime.EnsureLoaded();
                Assert.That(torch.get_num_threads(), Is.EqualTo(2));
            }
        }
        finally
        {
            TorchRuntime.EnsureLoaded(); // torch back to the restored thread count
        }
    }

    /// <summary>The spec's layers from a seed, with BatchNorm's γ, β and running statistics moved off their start values so inference exercises them.</summary>
    private static Sequential Initialised(NetworkSpec spec)
    {
        var host = OwnBackend.Build(spec, seed: 3);
        var random = new Random(5);
        foreach (var norm in host.Layers.OfType<BatchNorm>())
        {
            var (gamma, beta) = (norm.Parameters[0].Value, norm.Parameters[1].Value);
            var (mean, variance) = (norm.State[0], norm.State[1]);
            for (int c = 0; c < gamma.Length; c++)
            {
                gamma[c] = (float)(0.5 + random.NextDouble());
                beta[c] = (float)(random.NextDouble() - 0.5);
                mean[c] = (float)(random.NextDouble() - 0.5);
                variance[c] = (float)(0.5 + random.NextDouble());
            }
        }
        return host;
    }

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
