using Mnist.Cnn;
using Mnist.Cnn.Backends.Own;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Tests.Cnn;

/// <summary>The neural trainers' <c>winograd</c> hyperparameter: false puts every convolution of our engine on the direct kernels.</summary>
public class WinogradSwitchTests
{
    /// <summary>cnn's 5×5 and 3×3 layers on 28×28 and 14×14 maps, and cnn-vgg's 3×3 ones on 28×28, 14×14 and 7×7.</summary>
    private static IEnumerable<TestCaseData> Networks()
    {
        yield return new TestCaseData(Architectures.Cnn()).SetArgDisplayNames("cnn");
        yield return new TestCaseData(Architectures.CnnVgg()).SetArgDisplayNames("cnn-vgg");
    }

    [TestCaseSource(nameof(Networks))]
    public void WinogradFalseRunsEveryConvolutionDirectAndAgreesWithWinogradOnRealImages(NetworkSpec network)
    {
        const int Batch = 16;
        var images = new float[Batch * 784];
        TestData.Mnist.Test!.CopyPixels(0, Batch, images);
        float[] Logits(bool winograd)
        {
            var model = OwnBackend.Build(network, seed: 3, winograd: winograd);
            Assert.That(model.Layers.OfType<Conv2D>().Select(c => c.Algorithm),
                Has.All.EqualTo(winograd ? ConvolutionAlgorithm.Auto : ConvolutionAlgorithm.Direct));
            model.EnsureCapacity(Batch);
            return model.Forward(images, Batch, training: false).ToArray();
        }
        float[] winograd = Logits(true), direct = Logits(false);
        double largest = direct.Max(Math.Abs);
        Assert.Multiple(() =>
        {
            Assert.That(winograd, Is.Not.EqualTo(direct), "the two kernels round differently, so the switch took effect");
            for (int i = 0; i < direct.Length; i++)
                Assert.That(winograd[i], Is.EqualTo(direct[i]).Within(1e-4 * largest), $"logit {i}");
        });
    }

    [Test]
    public void TheSwitchIsAHyperparameterAndTheLibTorchTrainersRefuseIt()
    {
        var catalog = new TrainerCatalog().AddNeuralNetworks();
        var overrides = new Dictionary<string, string> { ["winograd"] = "false" };
        Assert.Multiple(() =>
        {
            Assert.That(catalog.Create("cnn").Hyperparameters["winograd"], Is.EqualTo(true), "Winograd by default");
            Assert.That(catalog.Create("cnn", overrides).Hyperparameters["winograd"], Is.EqualTo(false));
            Assert.That(() => catalog.Create("torch-cnn", overrides),
                Throws.ArgumentException.With.Message.Contains("'winograd'").And.Message.Contains("torch-cnn"));
        });
    }
}
