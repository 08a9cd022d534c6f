using Mnist.Cnn;
using Mnist.Cnn.Augmentation;
using Mnist.Cnn.Training;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Tests.Cnn;

public class NeuralTrainerTests
{
    private static TrainerCatalog Catalog() => new TrainerCatalog().AddNeuralNetworks();

    [Test]
    public void SmallCnnOverfitsOneHundredRealImages()
    {
        var images = TestData.Mnist.Train.Take(100);
        var trainer = Catalog().Create("cnn-small", new Dictionary<string, string>
        {
            ["epochs"] = "40", ["batch-size"] = "20", ["learning-rate"] = "0.002", ["schedule"] = "none",
        });
        var model = trainer.Fit(images);
        Assert.That(Evaluator.Evaluate(model, images).Accuracy, Is.EqualTo(1.0));
    }

    [Test]
    public void MlpLearnsFromAFewThousandImages()
    {
        var train = TestData.Mnist.Train.Take(5000);
        var test = TestData.Mnist.Test!.Take(2000);
        var trainer = Catalog().Create("mlp", new Dictionary<string, string> { ["epochs"] = "8", ["batch-size"] = "64" });
        var progress = new List<TrainingProgress>();
        var model = trainer.Fit(train, test.Take(500), new SynchronousProgress(progress.Add));
        double accuracy = Evaluator.Evaluate(model, test).Accuracy;
        TestContext.Out.WriteLine($"mlp, 5000 images, 8 epochs: test accuracy {accuracy:P2}");
        Assert.Multiple(() =>
        {
            Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.91), "measured 92.05 %");
            Assert.That(model.History!.Epochs, Has.Count.EqualTo(8));
            Assert.That(model.History.Epochs[^1].TrainLoss, Is.LessThan(model.History.Epochs[0].TrainLoss));
            Assert.That(model.History.Epochs.Select(e => e.ValidationAccuracy), Has.All.Not.Null);
            Assert.That(progress.Count(p => p.Epoch is not null), Is.EqualTo(8));
            Assert.That(progress[^1].Fraction, Is.EqualTo(1.0));
        });
    }

    [TestCase("cnn")]
    [TestCase("torch-cnn")]
    public void SaveThenLoadGivesIdenticalPredictions(string network)
    {
        string folder = TestData.NewTempFolder();
        try
        {
            var train = TestData.Mnist.Train.Take(300);
            var model = Catalog().Create(network, new Dictionary<string, string> { ["epochs"] = "1", ["batch-size"] = "50" }).Fit(train);
            string path = Path.Combine(folder, network + ".model");
            ModelFile.Save(model, path);
            var loaded = ModelFile.Load(path, Catalog());
            var data = TestData.Mnist.Test!.Take(64);
            Assert.Multiple(() =>
            {
                Assert.That(loaded.TrainerName, Is.EqualTo(network));
                Assert.That(((NeuralModel)loaded).Engine, Is.EqualTo(((NeuralModel)model).Engine));
                Assert.That(loaded.PredictProbabilities(data), Is.EqualTo(model.PredictProbabilities(data)));
                Assert.That(loaded.Hyperparameters["batch-size"], Is.EqualTo(50.0));
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void AModelSavedBeforeCleanEpochsExistedLoadsAsTrainedWithout()
    {
        var registration = Catalog().Find("cnn");
        Assert.That(registration.Create().Hyperparameters["clean-epochs"], Is.EqualTo(1.0), "cnn's default");
        var model = registration.Create(new Dictionary<string, string> { ["epochs"] = "1", ["batch-size"] = "50", ["clean-epochs"] = "0" })
            .Fit(TestData.Mnist.Train.Take(100));
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true)) model.WritePayload(writer);

        // The payload as an older build wrote it: the same bytes, without "clean-epochs" in the hyperparameters.
        payload.Position = 0;
        using var reader = new BinaryReader(payload);
        int version = reader.ReadInt32();
        var hyperparameters = System.Text.Json.Nodes.JsonNode.Parse(reader.ReadString())!.AsObject();
        Assert.That(hyperparameters.Remove("clean-epochs"), Is.True);
        byte[] rest = reader.ReadBytes((int)(payload.Length - payload.Position));
        using var older = new MemoryStream();
        using (var writer = new BinaryWriter(older, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(version);
            writer.Write(hyperparameters.ToJsonString());
            writer.Write(rest);
        }
        older.Position = 0;
        var loaded = registration.LoadModel(new BinaryReader(older));
        var data = TestData.Mnist.Test!.Take(20);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Hyperparameters["clean-epochs"], Is.EqualTo(0.0), "the off value, not today's default");
            Assert.That(loaded.Hyperparameters["epochs"], Is.EqualTo(1.0));
            Assert.That(loaded.PredictProbabilities(data), Is.EqualTo(model.PredictProbabilities(data)));
        });
    }

    [TestCase("cnn-small")]
    [TestCase("torch-cnn-small")]
    public void SameSeedGivesIdenticalModels(string network)
    {
        var train = TestData.Mnist.Train.Take(400);
        var settings = new Dictionary<string, string> { ["epochs"] = "2", ["batch-size"] = "64", ["augment"] = "true" };
        var a = Catalog().Create(network, settings).Fit(train);
        var b = Catalog().Create(network, settings).Fit(train);
        var data = TestData.Mnist.Test!.Take(50);
        Assert.That(a.PredictProbabilities(data), Is.EqualTo(b.PredictProbabilities(data)));
    }

    [Test]
    public void CleanEpochsTrainTheLastEpochsOnTheOriginalImages()
    {
        var train = TestData.Mnist.Train.Take(256);
        NeuralModel Fit(string augment, string cleanEpochs) => (NeuralModel)Catalog().Create("cnn-small", new Dictionary<string, string>
        {
            ["epochs"] = "3", ["batch-size"] = "64", ["augment"] = augment, ["clean-epochs"] = cleanEpochs,
        }).Fit(train);
        var augmented = Fit("true", "0");
        var lastClean = Fit("true", "1");
        var allClean = Fit("true", "3");
        var plain = Fit("false", "0");
        var data = TestData.Mnist.Test!.Take(50);
        double[] Losses(NeuralModel m) => m.History!.Epochs.Select(e => e.TrainLoss).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(Losses(lastClean)[..2], Is.EqualTo(Losses(augmented)[..2]), "the first two epochs augment as usual");
            Assert.That(Losses(lastClean)[2], Is.Not.EqualTo(Losses(augmented)[2]), "the last one does not");
            Assert.That(Losses(lastClean)[2], Is.Not.EqualTo(Losses(plain)[2]), "it starts from the augmented epochs' weights");
            Assert.That(allClean.PredictProbabilities(data), Is.EqualTo(plain.PredictProbabilities(data)), "every epoch clean is augment=false");
        });
    }

    [Test]
    public void AFittedModelKeepsNoBatchBuffersAfterFitOrABulkPrediction()
    {
        var model = (NeuralModel)Catalog().Create("cnn", new Dictionary<string, string> { ["epochs"] = "1", ["batch-size"] = "32" })
            .Fit(TestData.Mnist.Train.Take(64));
        Assert.That(model.Network.ScratchCapacity, Is.Zero, "after fit");
        var few = TestData.Mnist.Test!.Take(10);
        var first = model.PredictProbabilities(few);
        Assert.That(model.Network.ScratchCapacity, Is.EqualTo(10), "a small prediction keeps its buffers for the next call");
        var bulk = TestData.Mnist.Test!.Take(300);
        var bulkProbabilities = model.PredictProbabilities(bulk);
        Assert.That(model.Network.ScratchCapacity, Is.Zero, "after a bulk prediction");
        Assert.That(model.PredictProbabilities(few), Is.EqualTo(first), "the buffers made again give the same predictions");
        Assert.That(bulkProbabilities.AsSpan(0, first.Length).ToArray(), Is.EqualTo(first).Within(1e-5f), "the first 10 images of the bulk prediction");
    }

    [Test]
    public void UnknownOptimizerOrScheduleIsRejected()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => Catalog().Create("mlp", new Dictionary<string, string> { ["optimizer"] = "adagrad" }),
                Throws.ArgumentException.With.Message.Contain("Hyperparameter 'optimizer' must be one of 'adam', 'adamw', 'sgd', 'nesterov', 'rmsprop', not 'adagrad'"));
            Assert.That(() => Catalog().Create("mlp", new Dictionary<string, string> { ["schedule"] = "step" }),
                Throws.ArgumentException.With.Message.Contain("Hyperparameter 'schedule' must be one of 'none', 'cosine', 'onecycle', 'plateau', not 'step'"));
        });
    }
}

public class RandomAffineTests
{
    [Test]
    public void IdentityTransformKeepsTheImage()
    {
        var image = TestData.Mnist.Train.GetImage(0).ToArray();
        var output = new float[784];
        RandomAffine.Transform(image, output, 28, 28, angle: 0, scale: 1, shiftX: 0, shiftY: 0);
        Assert.That(output, Is.EqualTo(image));
    }

    [Test]
    public void WholePixelShiftMovesTheImage()
    {
        var image = TestData.Mnist.Train.GetImage(0).ToArray();
        var output = new float[784];
        RandomAffine.Transform(image, output, 28, 28, angle: 0, scale: 1, shiftX: 2, shiftY: -1);
        for (int y = 0; y < 27; y++)
            for (int x = 2; x < 28; x++)
                Assert.That(output[y * 28 + x], Is.EqualTo(image[(y + 1) * 28 + x - 2]).Within(1e-6f));
    }

    [Test]
    public void RandomTransformsAreReproducibleAndBounded()
    {
        var augmentation = new RandomAffine();
        var image = TestData.Mnist.Train.GetImage(7).ToArray();
        var a = new float[784];
        var b = new float[784];
        var c = new float[784];
        augmentation.Apply(image, a, 28, 28, seed: 123);
        augmentation.Apply(image, b, 28, 28, seed: 123);
        augmentation.Apply(image, c, 28, 28, seed: 124);
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a, Is.Not.EqualTo(c));
            Assert.That(a, Has.All.InRange(0f, 1f));
            // ±10 % zoom and shift keep most of the ink.
            Assert.That(a.Sum(), Is.EqualTo(image.Sum()).Within(image.Sum() * 0.35));
        });
    }
}

public class ElasticDistortionTests
{
    [TestCase(28, 28, 4.0, 34.0)]
    [TestCase(32, 20, 2.5, 8.0)]
    [TestCase(6, 9, 4.0, 34.0)] // the Gaussian is wider than the image
    public void FastFieldsEqualTheDirectTwoDimensionalSmoothing(int height, int width, double sigma, double alpha)
    {
        var elastic = new ElasticDistortion(alpha, sigma);
        int pixels = height * width;
        float[] dx = new float[pixels], dy = new float[pixels], dxReference = new float[pixels], dyReference = new float[pixels];
        elastic.Fill(dx, dy, height, width, seed: 77, firstDraw: 4);
        elastic.FillReference(dxReference, dyReference, height, width, seed: 77, firstDraw: 4);
        Assert.Multiple(() =>
        {
            Assert.That(dx, Is.EqualTo(dxReference).Within(1e-5 * alpha));
            Assert.That(dy, Is.EqualTo(dyReference).Within(1e-5 * alpha));
            Assert.That(dx, Is.Not.EqualTo(dy));
            Assert.That(dx.Select(Math.Abs).Max(), Is.GreaterThan(0));
        });
    }

    [Test]
    public void SimardsSettingsMoveStrokesAboutOnePixelAndKeepTheInk()
    {
        // Uniform [−1, 1) noise has SD 1/√3; a normalised 2-D Gaussian of σ = 4 divides it by about √(4π)·σ ≈ 14.2,
        // so α = 34 gives a root-mean-square displacement near 1.4 pixels per axis in the image's interior.
        var elastic = new ElasticDistortion(34, 4);
        float[] dx = new float[784], dy = new float[784];
        elastic.Fill(dx, dy, 28, 28, seed: 5, firstDraw: 4);
        double interiorRms = Math.Sqrt(Enumerable.Range(10, 8).SelectMany(y => Enumerable.Range(10, 8).Select(x => (double)dx[y * 28 + x] * dx[y * 28 + x])).Average());
        Assert.That(interiorRms, Is.InRange(0.5, 3.0));

        var image = TestData.Mnist.Train.GetImage(7).ToArray();
        var distorted = new float[784];
        new RandomAffine(0, 0, 0, elastic).Apply(image, distorted, 28, 28, seed: 5);
        Assert.Multiple(() =>
        {
            Assert.That(distorted, Is.Not.EqualTo(image));
            Assert.That(distorted, Has.All.InRange(0f, 1f));
            Assert.That(distorted.Sum(), Is.EqualTo(image.Sum()).Within(image.Sum() * 0.25));
        });
    }

    [Test]
    public void WithoutAffinePartTheImageSamplesItsDisplacedPositions()
    {
        // Whole-pixel displacement fields reproduce a shift exactly, so Transform reads the fields where the test expects.
        var image = TestData.Mnist.Train.GetImage(0).ToArray();
        float[] dx = Enumerable.Repeat(-2f, 784).ToArray(), dy = Enumerable.Repeat(1f, 784).ToArray();
        float[] displaced = new float[784], shifted = new float[784];
        RandomAffine.Transform(image, displaced, 28, 28, angle: 0, scale: 1, shiftX: 0, shiftY: 0, dx, dy);
        RandomAffine.Transform(image, shifted, 28, 28, angle: 0, scale: 1, shiftX: 2, shiftY: -1);
        Assert.That(displaced, Is.EqualTo(shifted).Within(1e-6f));
    }

    [Test]
    public void ElasticAugmentationIsReproducibleAndDiffersFromAffineAlone()
    {
        var image = TestData.Mnist.Train.GetImage(3).ToArray();
        float[] a = new float[784], b = new float[784], affineOnly = new float[784];
        var augmentation = new RandomAffine(elastic: new ElasticDistortion(34, 4));
        augmentation.Apply(image, a, 28, 28, seed: 9);
        augmentation.Apply(image, b, 28, 28, seed: 9);
        new RandomAffine().Apply(image, affineOnly, 28, 28, seed: 9);
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a, Is.Not.EqualTo(affineOnly));
        });
    }

    [TestCase(0.0, 4.0)]
    [TestCase(-1.0, 4.0)]
    [TestCase(34.0, 0.0)]
    [TestCase(34.0, double.NaN)]
    public void BadSettingsAreRefused(double alpha, double sigma) =>
        Assert.That(() => new ElasticDistortion(alpha, sigma), Throws.InstanceOf<ArgumentOutOfRangeException>());
}

