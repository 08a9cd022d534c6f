using Mnist.Cnn;
using Mnist.Cnn.Training;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;
using Mnist.Tests.Reliability;
using Mnist.Tests.Runner;

namespace Mnist.Tests.Cnn.Backends.Torch;

/// <summary>The catalog's torch-* trainers: they learn, their model files are our engine's, and without LibTorch they refuse in one line.</summary>
public class TorchTrainerTests
{
    private static TrainerCatalog Catalog() => new TrainerCatalog().AddNeuralNetworks();

    [TestCase("torch-cnn-small", "3", 0.90)]
    [TestCase("torch-mlp", "6", 0.86)]
    public void LearnsFromTwoThousandImages(string trainer, string epochs, double floor)
    {
        var train = TestData.Mnist.Train.Take(2000);
        var test = TestData.Mnist.Test!.Take(1000);
        var model = Catalog().Create(trainer, new Dictionary<string, string> { ["epochs"] = epochs }).Fit(train);
        double accuracy = Evaluator.Evaluate(model, test).Accuracy;
        TestContext.Out.WriteLine($"{trainer}, 2000 images, {epochs} epochs: test accuracy {accuracy:P2}");
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(floor));
        Assert.That(model.History!.Epochs.Select(e => e.ImagesPerSecond), Has.All.GreaterThan(0));
    }

    /// <summary>The payload is backend-neutral: a torch-cnn model file read as a cnn one predicts the same on our engine.</summary>
    [Test]
    public void ATorchModelsWeightsRunOnOurEngine()
    {
        var torchModel = (NeuralModel)Catalog().Create("torch-cnn", new Dictionary<string, string> { ["epochs"] = "1", ["batch-size"] = "50" })
            .Fit(TestData.Mnist.Train.Take(300));
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true)) torchModel.WritePayload(writer);
        payload.Position = 0;
        using var reader = new BinaryReader(payload);
        var ours = Catalog().Find("cnn").LoadModel(reader);

        var data = TestData.Mnist.Test!.Take(64);
        Assert.That(ours.Engine, Is.EqualTo("own"));
        Assert.That(ours.PredictProbabilities(data), Is.EqualTo(torchModel.PredictProbabilities(data)).Within(1e-4f));
    }

    /// <summary>
    /// A real runner process whose dynamic loader finds a broken libc10.so first (LD_LIBRARY_PATH is searched before
    /// libLibTorchSharp.so's RUNPATH): a torch trainer and a torch model are one line naming the library and the cause,
    /// exit 2, before anything trains; our own trainers run as usual.
    /// </summary>
    [Test]
    [Platform("Linux")]
    public void WithoutLoadableLibTorchTorchTrainersRefuseInOneLineAndOursRun()
    {
        string folder = RunnerHarness.TempFolder("torch-unavailable");
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "train.csv"), HostileInput.Csv(60, 28, labelled: true));
            File.WriteAllBytes(Path.Combine(folder, "test.csv"), HostileInput.Csv(10, 28, labelled: false, seed: 2));
            string broken = Path.Combine(folder, "broken-lib");
            Directory.CreateDirectory(broken);
            File.WriteAllText(Path.Combine(broken, "libc10.so"), "not a shared library");
            var environment = new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = broken };
            string model = Path.Combine(folder, "torch.model");
            ModelFile.Save(Catalog().Create("torch-cnn-small", new Dictionary<string, string> { ["epochs"] = "1" }).Fit(TestData.Mnist.Train.Take(100)), model);

            var compare = MnistProcess.Run(environment, folder, 120, "compare", "--data", folder, "--trainers", "mlp,torch-cnn-small", "--param", "epochs=1", "--out", "never");
            var predict = MnistProcess.Run(environment, folder, 120, "predict", "--model", model, "--input", "test.csv", "--out", "never.csv");
            var ours = MnistProcess.Run(environment, folder, 120, "compare", "--data", folder, "--trainers", "mlp", "--param", "epochs=1", "--out", "ours");

            string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.That(compare.ExitCode, Is.EqualTo(2), compare.Error);
            Assert.That(Lines(compare.Error), Is.EqualTo(new[]
            {
                "error: trainer 'torch-cnn-small' needs TorchSharp 0.107 / LibTorch 2.10, which cannot run here: " +
                $"the native library libLibTorchSharp.so could not be loaded: {Path.Combine(broken, "libc10.so")}: file too short",
            }));
            Assert.That(compare.Output, Does.Not.Contain("[mlp] started"), "refused before anything trains");
            Assert.That(predict.ExitCode, Is.EqualTo(2), predict.Error);
            Assert.That(Lines(predict.Error).Single(), Does.StartWith("error: the torch-cnn-small model needs TorchSharp 0.107 / LibTorch 2.10, which cannot run here: the native library libLibTorchSharp.so could not be loaded: "));
            Assert.That(File.Exists(Path.Combine(folder, "never.csv")), Is.False);
            Assert.That(ours.ExitCode, Is.Zero, ours.Error);
            Assert.That(File.Exists(Path.Combine(folder, "ours", "results.json")), Is.True);
        }
        finally
        {
            RunnerHarness.DeleteQuietly(folder);
        }
    }
}
