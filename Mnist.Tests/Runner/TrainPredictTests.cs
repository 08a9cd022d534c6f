using Mnist.Core.Data;
using Mnist.Core.Training;
using Mnist.Core.Training.Ensembles;

namespace Mnist.Tests.Runner;

/// <summary><c>mnist train</c> saves a model file that <c>mnist predict</c> reuses on CSV and IDX inputs.</summary>
[TestFixture]
public sealed class TrainPredictTests : SharedTempFolderFixture
{
    private string _model = null!, _kaggleTrain = null!, _kaggleTest = null!;
    private RunOutcome _trained = null!;

    [OneTimeSetUp]
    public void Train()
    {
        (_kaggleTrain, _kaggleTest) = KaggleSubsets.Write(Folder, 300, 50);
        _model = Path.Combine(Folder, "models", "centroid.model");
        _trained = Run("train", "--trainer", "centroid", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "1000", "--test-limit", "200",
            "--model-out", _model, "--param", "temperature=4");
        Assert.That(_trained.ExitCode, Is.Zero, () => $"stdout:\n{_trained.Output}\nstderr:\n{_trained.Error}");
    }

    private RunOutcome Run(params string[] args) => RunnerHarness.Run(TestCatalogs.Centroids(), Folder, args);

    [Test]
    public void TrainSavesALoadableModelAndPrintsItsAccuracies()
    {
        Assert.That(_trained.Error, Is.Empty);
        Assert.That(_trained.Output, Does.Match(@"(899|900|901) train, (99|100|101) validation, 200 test").And.Contain("Saved the centroid model to " + _model));
        Assert.That(_trained.Output, Does.Contain("Validation acc").And.Contain("Test acc"));
        var header = ModelFile.ReadHeader(_model);
        Assert.That(header.TrainerName, Is.EqualTo("centroid"));
        Assert.That(header.HyperparametersJson, Does.Contain("\"temperature\":4"));
    }

    [Test]
    public void PredictOnALabelledCsvPrintsAccuracyAndWritesTheSubmissionShape()
    {
        string output = Path.Combine(Folder, "labelled.csv");
        var outcome = Run("predict", "--model", _model, "--input", _kaggleTrain, "--out", output);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Match(@"Accuracy: (\d+\.\d\d)% \(\d+ of 300\)"));
        double accuracy = double.Parse(System.Text.RegularExpressions.Regex.Match(outcome.Output, @"Accuracy: (\d+\.\d\d)%").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(accuracy, Is.GreaterThan(60));
        var lines = File.ReadAllLines(output);
        Assert.That(lines[0], Is.EqualTo("ImageId,Label"));
        Assert.That(lines.Skip(1).Select(l => l.Split(',')[0]), Is.EqualTo(Enumerable.Range(1, 300).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Test]
    public void PredictionsEqualTheModelsOwnInProcess()
    {
        string output = Path.Combine(Folder, "unlabelled.csv");
        var outcome = Run("predict", "--model", _model, "--input", _kaggleTest, "--out", output);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Not.Contain("Accuracy"), "no labels, no accuracy");
        var model = ModelFile.Load(_model, TestCatalogs.Centroids());
        int[] expected = model.Predict(KaggleCsvReader.Read(_kaggleTest));
        var written = File.ReadAllLines(output).Skip(1).Select(l => int.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(written, Is.EqualTo(expected));
    }

    [Test]
    public void PredictOnAnIdxImagesFileFindsTheLabelsBesideIt()
    {
        // A small IDX pair: the first 300 test images and labels of the real files.
        var test = TestData.Mnist.Test!.Take(300);
        string images = Path.Combine(Folder, "idx", "t10k-images-idx3-ubyte");
        string labels = Path.Combine(Folder, "idx", "t10k-labels-idx1-ubyte");
        Directory.CreateDirectory(Path.GetDirectoryName(images)!);
        WriteIdx(test, images, labels);
        string output = Path.Combine(Folder, "idx.csv");

        var outcome = Run("predict", "--model", _model, "--input", images, "--out", output);

        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Contain("300 images, labelled").And.Match(@"Accuracy: \d+\.\d\d% \(\d+ of 300\)"));
        Assert.That(File.ReadAllLines(output), Has.Length.EqualTo(301));
    }

    [Test]
    public void CorruptedModelFileIsOneLineExitTwoAndNoOutput()
    {
        byte[] bytes = File.ReadAllBytes(_model);
        bytes[^5] ^= 0x55;
        string corrupted = Path.Combine(Folder, "corrupted.model");
        File.WriteAllBytes(corrupted, bytes);
        string output = Path.Combine(Folder, "never.csv");

        var outcome = Run("predict", "--model", corrupted, "--input", _kaggleTest, "--out", output);

        outcome.AssertOneErrorLine("corrupted.model", "checksum");
        Assert.That(outcome.Error, Does.Not.Contain("   at "));
        Assert.That(File.Exists(output), Is.False);
    }

    [TestCase("truncated")]
    [TestCase("not-a-model")]
    [TestCase("unknown-trainer")]
    [TestCase("missing")]
    public void UnusableModelFilesAreOneLineExitTwo(string problem)
    {
        string path = Path.Combine(Folder, problem + ".model");
        var catalog = TestCatalogs.Centroids();
        switch (problem)
        {
            case "truncated":
                File.WriteAllBytes(path, File.ReadAllBytes(_model)[..40]);
                break;
            case "not-a-model":
                File.WriteAllText(path, "ImageId,Label\n1,2\n");
                break;
            case "unknown-trainer":
                File.Copy(_model, path);
                catalog = new TrainerCatalog();
                break;
        }
        var outcome = RunnerHarness.Run(catalog, Folder, "predict", "--model", path, "--input", _kaggleTest, "--out", Path.Combine(Folder, problem + ".csv"));
        outcome.AssertOneErrorLine(problem + ".model");
        Assert.That(File.Exists(Path.Combine(Folder, problem + ".csv")), Is.False);
    }

    [Test]
    public void ExistingFilesAreNotOverwrittenWithoutForce()
    {
        var train = Run("train", "--trainer", "centroid", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "100", "--model-out", _model);
        Assert.That(train.ExitCode, Is.EqualTo(2));
        Assert.That(train.ErrorLines[0], Does.Contain("centroid.model already exists").And.Contain("--force"));

        string output = Path.Combine(Folder, "kept.csv");
        File.WriteAllText(output, "precious");
        var predict = Run("predict", "--model", _model, "--input", _kaggleTest, "--out", output);
        Assert.That(predict.ExitCode, Is.EqualTo(2));
        Assert.That(File.ReadAllText(output), Is.EqualTo("precious"));
        Assert.That(Run("predict", "--model", _model, "--input", _kaggleTest, "--out", output, "--force").ExitCode, Is.Zero);
    }

    [Test]
    public void PredictWithTtaScoresASavedNetworkWithAugmentation()
    {
        var catalog = TestCatalogs.WithReal();
        var network = catalog.Create("mlp", new Dictionary<string, string> { ["epochs"] = "1", ["seed"] = "2" }).Fit(TestData.Mnist.Train.Take(400));
        string modelPath = Path.Combine(Folder, "mlp.model");
        ModelFile.Save(network, modelPath);
        string output = Path.Combine(Folder, "tta.csv");

        var outcome = RunnerHarness.Run(catalog, Folder, "predict", "--model", modelPath, "--input", _kaggleTrain, "--out", output, "--tta", "3");

        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Contain("Test-time augmentation: each image and 3 seeded affine variants").And.Match(@"Accuracy: \d+\.\d\d% \(\d+ of 300\)"));
        int[] expected = network.WithTestTimeAugmentation(3)!.Predict(KaggleCsvReader.Read(_kaggleTrain));
        Assert.That(File.ReadAllLines(output).Skip(1).Select(l => int.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(expected));
        Assert.That(expected, Is.Not.EqualTo(network.Predict(KaggleCsvReader.Read(_kaggleTrain))), "the variants change some predictions");
    }

    [Test]
    public void TrainAndPredictShowAnEnsemblesMembersBesideIt()
    {
        var catalog = TestCatalogs.Centroids().AddEnsemble();
        string modelPath = Path.Combine(Folder, "ensemble.model");
        var trained = RunnerHarness.Run(catalog, Folder, "train", "--trainer", "ensemble", "--data", RunnerHarness.RealDataFolder(),
            "--train-limit", "1000", "--test-limit", "200", "--model-out", modelPath,
            "--param", "members=centroid(max-per-class=2)+centroid(max-per-class=20)+centroid");
        Assert.That(trained.ExitCode, Is.Zero, trained.Error);
        Assert.That(trained.Output, Does.Contain("member 1: centroid").And.Contain("member 3: centroid"));

        string output = Path.Combine(Folder, "ensemble.csv");
        var outcome = RunnerHarness.Run(catalog, Folder, "predict", "--model", modelPath, "--input", _kaggleTrain, "--out", output);

        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        var model = ModelFile.Load(modelPath, catalog);
        var images = KaggleCsvReader.Read(_kaggleTrain);
        int[] truth = Mnist.Runner.Common.ModelFitting.Labels(images);
        string Line(string name, int[] predicted)
        {
            int correct = predicted.Where((label, i) => label == truth[i]).Count();
            return $"{name}: {Mnist.Core.Reporting.MarkdownReportWriter.Percent(correct / 300.0)} ({correct} of 300)";
        }
        var memberLines = model.Members.Select((member, i) => Line($"Member {i + 1} (centroid)", member.Predict(images))).ToList();
        Assert.That(memberLines.Distinct().Count(), Is.EqualTo(3), "members averaging 2, 20 and all images per class score differently");
        Assert.That(outcome.Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("Member ", StringComparison.Ordinal)), Is.EqualTo(memberLines));
        Assert.That(outcome.Output, Does.Contain(Line("Accuracy", model.Predict(images))));
    }

    [TestCase("2", "has no test-time augmentation")]
    [TestCase("65", "--tta must be between 0 and 64")]
    [TestCase("-1", "--tta must be between 0 and 64")]
    public void PredictRefusesATtaTheModelCannotTake(string tta, string message)
    {
        string output = Path.Combine(Folder, "no-tta.csv");
        var outcome = Run("predict", "--model", _model, "--input", _kaggleTest, "--out", output, "--tta", tta);
        outcome.AssertOneErrorLine(message);
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void MissingRequiredOptionsAreNamed()
    {
        Assert.That(Run("train", "--trainer", "centroid").ErrorLines.Single(), Does.Contain("--model-out"));
        Assert.That(Run("predict", "--model", _model).ErrorLines.Single(), Does.Contain("--input"));
        Assert.That(Run("train", "--model-out", "x.model").ErrorLines.Single(), Does.Contain("--trainer is required"));
    }

    private static void WriteIdx(DigitDataView view, string imagesPath, string labelsPath)
    {
        using (var images = new BinaryWriter(File.Create(imagesPath)))
        {
            images.Write(new byte[] { 0, 0, 8, 3 });
            foreach (int n in new[] { view.Count, view.Height, view.Width }) images.Write(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(n));
            for (int i = 0; i < view.Count; i++)
                foreach (float p in view.GetImage(i)) images.Write((byte)Math.Round(p * 255));
        }
        using var labels = new BinaryWriter(File.Create(labelsPath));
        labels.Write(new byte[] { 0, 0, 8, 1 });
        labels.Write(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(view.Count));
        labels.Write(view.GetLabels());
    }
}
