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
