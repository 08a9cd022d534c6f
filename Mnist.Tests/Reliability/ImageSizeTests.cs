using Mnist.Tests.Runner;

namespace Mnist.Tests.Reliability;

/// <summary>
/// Images that are not 28×28: every trainer fits a Kaggle-style CSV of 32×32 images (the networks are built for
/// the data's shape); a size a trainer cannot take, and a model asked to predict another size, are one error
/// line and exit 2 before anything trains or is written.
/// </summary>
[TestFixture]
public sealed class ImageSizeTests
{
    /// <summary>Keeps each real trainer's fit to a moment on 100 images.</summary>
    private static readonly string[] QuickParams =
    [
        "logreg.max-iterations=5", "linear-svm.max-epochs=3", "gbdt.rounds=2", "gbdt.min-samples-leaf=2",
        "mlp.epochs=1", "cnn.epochs=1", "cnn-vgg.epochs=1", "cnn-small.epochs=1", "knn.pca-components=30",
        "torch-mlp.epochs=1", "torch-cnn.epochs=1", "torch-cnn-vgg.epochs=1", "torch-cnn-small.epochs=1",
        "mlnet-maxent.max-iterations=5", "mlnet-sdca.max-iterations=2", "mlnet-fasttree.trees=2", "mlnet-lightgbm.iterations=2",
        "ensemble.members=logreg(max-iterations=5)+cnn-small(epochs=1)",
    ];

    private string _folder = "";

    [OneTimeSetUp]
    public void WriteData()
    {
        _folder = RunnerHarness.TempFolder("image-size");
        foreach (int side in new[] { 32, 28, 3 })
        {
            string data = Path.Combine(_folder, $"side{side}");
            Directory.CreateDirectory(data);
            File.WriteAllBytes(Path.Combine(data, "train.csv"), HostileInput.Csv(100, side, labelled: true));
            File.WriteAllBytes(Path.Combine(data, "test.csv"), HostileInput.Csv(20, side, labelled: false, seed: 2));
        }
    }

    [OneTimeTearDown]
    public void DeleteData() => RunnerHarness.DeleteQuietly(_folder);

    /// <summary>Every trainer the runner ships, ours and ML.NET's.</summary>
    private RunOutcome Run(params string[] args) => RunnerHarness.Run(Mnist.Runner.Catalogs.Default(), _folder, args);

    private static string[] Params() => QuickParams.SelectMany(p => new[] { "--param", p }).ToArray();

    [Test]
    public void EveryTrainerFits32By32Images()
    {
        string output = Path.Combine(_folder, "compare32");
        var outcome = Run(["compare", "--trainers", "all", "--data", Path.Combine(_folder, "side32"), "--out", output, .. Params()]);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        Assert.That(json.RootElement.GetProperty("models").GetArrayLength(), Is.EqualTo(Mnist.Runner.Catalogs.Default().Registrations.Count));
    }

    [TestCase("cnn-small")]
    [TestCase("cnn")]
    [TestCase("cnn-vgg")]
    [TestCase("torch-cnn-small")]
    public void ImagesTooSmallForANetworkAreRefusedBeforeAnyTraining(string network)
    {
        string output = Path.Combine(_folder, "tiny-" + network);
        var outcome = Run("compare", "--data", Path.Combine(_folder, "side3"), "--trainers", $"logreg,{network}", "--out", output);
        Assert.That(outcome.ExitCode, Is.EqualTo(2), outcome.Output + outcome.Error);
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(outcome.ErrorLines[0], Does.StartWith($"error: {Path.Combine(_folder, "side3")}: trainer '{network}' cannot fit these 3×3 images: "));
        Assert.That(outcome.Output, Does.Not.Contain("[logreg] started"), "nothing trains");
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void MorePcaComponentsThanPixelsIsRefusedBeforeTraining()
    {
        string model = Path.Combine(_folder, "knn-tiny.model");
        var outcome = Run("train", "--data", Path.Combine(_folder, "side3"), "--trainer", "knn", "--param", "pca-components=10", "--model-out", model);
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines.Single(), Does.Contain("trainer 'knn' cannot fit these 3×3 images: pca-components = 10 exceeds the 9 pixels"));
        Assert.That(File.Exists(model), Is.False);
    }

    private static IEnumerable<string> TrainerNames() => Mnist.Runner.Catalogs.Default().Names;

    [TestCaseSource(nameof(TrainerNames))]
    public void PredictingAnotherImageSizeIsOneErrorLine(string trainer)
    {
        string model = Path.Combine(_folder, trainer + "-28.model");
        var trained = Run(["train", "--data", Path.Combine(_folder, "side28"), "--trainer", trainer, "--model-out", model,
            .. QuickParams.Where(p => p.StartsWith(trainer + ".", StringComparison.Ordinal)).SelectMany(p => new[] { "--param", p[(trainer.Length + 1)..] })]);
        Assert.That(trained.ExitCode, Is.Zero, trained.Error);

        string predictions = Path.Combine(_folder, trainer + "-predictions.csv");
        string input = Path.Combine(_folder, "side32", "test.csv");
        var outcome = Run("predict", "--model", model, "--input", input, "--out", predictions);
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(outcome.ErrorLines[0], Does.StartWith($"error: {input}: the {trainer} model in {model} cannot predict these 32×32 images: ")
            .And.EndWith("the model was trained on images of 784 pixels (28×28); these are 32×32 (1024 pixels)"));
        Assert.That(File.Exists(predictions), Is.False);
    }
}
