using Mnist.Cnn;
using Mnist.Cnn.Augmentation;
using Mnist.Cnn.Networks;
using Mnist.Cnn.Training;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Tests.Cnn.Augmentation;

/// <summary>Test-time augmentation: the mean over each image and N seeded small affine variants.</summary>
[TestFixture]
public sealed class TestTimeAugmentationTests
{
    private static readonly DigitDataView Images = TestData.Mnist.Test!.Take(1500).Materialize();

    /// <summary>A stand-in model whose "probabilities" are each image's first ten pixels: any change of the images shows.</summary>
    private static void FirstPixels(DigitDataView view, Span<float> probabilities)
    {
        for (int i = 0; i < view.Count; i++) view.GetImage(i)[300..310].CopyTo(probabilities.Slice(i * 10, 10));
    }

    private static float[] Predict(int variants, int seed, DigitDataView images, ProbabilityPredictor predictor)
    {
        var probabilities = new float[images.Count * 10];
        new TestTimeAugmentation(variants, seed).PredictProbabilities(images, probabilities, predictor);
        return probabilities;
    }

    [Test]
    public void NoVariantsIsThePlainPrediction()
    {
        var plain = new float[Images.Count * 10];
        FirstPixels(Images, plain);
        Assert.That(Predict(0, 5, Images, FirstPixels), Is.EqualTo(plain));
    }

    [Test]
    public void VariantsAreTheMeanOfSeededAffineCopiesAndDeterministicPerSeed()
    {
        float[] three = Predict(3, 5, Images, FirstPixels);
        Assert.That(Predict(3, 5, Images, FirstPixels), Is.EqualTo(three), "same seed, same result");
        Assert.That(Predict(3, 6, Images, FirstPixels), Is.Not.EqualTo(three), "another seed, other variants");

        // Image 1234 (in the second chunk) by hand: the original plus three RandomAffine(5°, 0.05, 0.05) copies.
        const int index = 1234;
        var affine = new RandomAffine(5, 0.05, 0.05);
        var expected = Images.GetImage(index)[300..310].ToArray();
        var copy = new float[Images.PixelCount];
        for (int v = 1; v <= 3; v++)
        {
            affine.Apply(Images.GetImage(index), copy, 28, 28, Seeds.Derive(Seeds.Derive(5, -v), index));
            for (int c = 0; c < 10; c++) expected[c] += copy[300 + c];
        }
        Assert.That(three.AsSpan(index * 10, 10).ToArray(), Is.EqualTo(expected.Select(e => e / 4)).Within(1e-6));
    }

    [Test]
    public void ThreadsDoNotChangeTheResult()
    {
        float[] one;
        using (ComputeThreads.Use(1)) one = Predict(2, 9, Images, FirstPixels);
        using (ComputeThreads.Use(2)) Assert.That(Predict(2, 9, Images, FirstPixels), Is.EqualTo(one));
    }

    [Test]
    public void ANetworkWithTtaAveragesItsVariantsAndWithoutItPredictsPlainly()
    {
        var catalog = new TrainerCatalog().AddNeuralNetworks();
        var train = TestData.Mnist.Train.Take(500);
        var plain = (NeuralModel)catalog.Create("mlp", new Dictionary<string, string> { ["epochs"] = "1", ["seed"] = "3" }).Fit(train);
        var augmented = (NeuralModel)catalog.Create("mlp", new Dictionary<string, string> { ["epochs"] = "1", ["seed"] = "3", ["tta"] = "4" }).Fit(train);
        var test = Images.Take(300);
        var network = new float[test.Count * 10];
        plain.Network.PredictProbabilities(test, network);
        Assert.That(plain.PredictProbabilities(test), Is.EqualTo(network), "tta=0 is the network's own prediction");

        var expected = new float[test.Count * 10];
        new TestTimeAugmentation(4, 3).PredictProbabilities(test, expected, (view, p) => augmented.Network.PredictProbabilities(view, p));
        float[] tta = augmented.PredictProbabilities(test);
        Assert.That(tta, Is.EqualTo(expected));
        Assert.That(tta, Is.Not.EqualTo(network), "the same weights (same seed, tta does not touch training), other predictions");
        for (int i = 0; i < test.Count; i++) Assert.That(tta.AsSpan(i * 10, 10).ToArray().Sum(), Is.EqualTo(1f).Within(1e-5));
        Assert.That(() => Mnist.Onnx.OnnxExport.ToBytes(augmented), Throws.TypeOf<Mnist.Onnx.NotExportableException>().With.Message.Contain("tta > 0"),
            "the ONNX graph would not average the variants");
        Assert.That(Mnist.Onnx.OnnxExport.ToBytes(plain), Is.Not.Empty);
    }
    [Test]
    public void TtaSetAfterFitIsTheModelFittedWithIt()
    {
        // tta does not touch training: the same seed gives the same weights, so setting it afterwards must give
        // exactly the predictions of the model fitted with it.
        var catalog = new TrainerCatalog().AddNeuralNetworks();
        var train = TestData.Mnist.Train.Take(400);
        var plain = catalog.Create("mlp", new Dictionary<string, string> { ["epochs"] = "1", ["seed"] = "4" }).Fit(train);
        var fittedWithTta = catalog.Create("mlp", new Dictionary<string, string> { ["epochs"] = "1", ["seed"] = "4", ["tta"] = "3" }).Fit(train);
        var test = Images.Take(200);

        var augmented = plain.WithTestTimeAugmentation(3)!;
        Assert.That(augmented.PredictProbabilities(test), Is.EqualTo(fittedWithTta.PredictProbabilities(test)));
        Assert.That(augmented.Hyperparameters["tta"], Is.EqualTo(3));
        Assert.That(plain.Hyperparameters["tta"], Is.EqualTo(0), "the original model is unchanged");
        Assert.That(fittedWithTta.WithTestTimeAugmentation(0)!.PredictProbabilities(test), Is.EqualTo(plain.PredictProbabilities(test)), "0 turns it off");
        Assert.That(() => plain.WithTestTimeAugmentation(65), Throws.ArgumentException.With.Message.Contain("tta"));
    }
}
