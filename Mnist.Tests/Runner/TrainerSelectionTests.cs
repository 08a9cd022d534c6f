using Mnist.Cnn;
using Mnist.Core.Training;
using Mnist.Runner;
using Mnist.Runner.Compare;

namespace Mnist.Tests.Runner;

[TestFixture]
public sealed class TrainerSelectionTests
{
    [Test]
    public void NoTrainersMeansTheWholeCatalogInOrder()
    {
        Assert.That(TrainerSelection.ResolveNames(TestCatalogs.Centroids(), []), Is.EqualTo(new[] { "centroid", "centroid-raw" }));
    }

    [Test]
    public void NoTrainersLeavesOutTheTrainersThatRunOnlyWhenNamedAndAllTakesEveryOne()
    {
        var catalog = new TrainerCatalog().AddNeuralNetworks();
        Assert.Multiple(() =>
        {
            Assert.That(TrainerSelection.ResolveNames(catalog, []), Is.EqualTo(new[] { "mlp", "cnn", "cnn-small" }), "the LibTorch twins and cnn-vgg run when named");
            Assert.That(TrainerSelection.ResolveNames(catalog, ["ALL"]), Is.EqualTo(catalog.Names));
            Assert.That(TrainerSelection.ResolveNames(catalog, ["torch-cnn-small"]), Is.EqualTo(new[] { "torch-cnn-small" }));
        });
    }

    [Test]
    public void CommaListsAndRepeatsAreAcceptedCaseInsensitivelyWithoutDuplicates()
    {
        var names = TrainerSelection.ResolveNames(TestCatalogs.Centroids(), ["Centroid-Raw,centroid", "CENTROID"]);
        Assert.That(names, Is.EqualTo(new[] { "centroid-raw", "centroid" }));
    }

    [Test]
    public void UnknownTrainerListsTheKnownOnes()
    {
        var e = Assert.Throws<UsageException>(() => TrainerSelection.ResolveNames(TestCatalogs.Centroids(), ["svm"]));
        Assert.That(e!.Message, Does.Contain("'svm'").And.Contain("centroid, centroid-raw"));
    }

    [Test]
    public void UntargetedParamGoesOnlyToTrainersThatHaveIt()
    {
        var assigned = TrainerSelection.AssignParameters(TestCatalogs.Centroids(), ["centroid", "centroid-raw"], ["temperature=3"]);
        Assert.That(assigned["centroid"]["temperature"], Is.EqualTo("3"));
        Assert.That(assigned["centroid-raw"], Is.Empty);
    }

    [Test]
    public void TargetedParamWinsOverUntargeted()
    {
        var assigned = TrainerSelection.AssignParameters(TestCatalogs.Centroids(), ["centroid"], ["centroid.temperature=2", "temperature=9"]);
        Assert.That(assigned["centroid"]["temperature"], Is.EqualTo("2"));
    }

    [Test]
    public void SingleTrainerGetsUntargetedParamsStrictly()
    {
        var e = Assert.Throws<UsageException>(() => TrainerSelection.Create(TestCatalogs.Centroids(), ["centroid-raw"], ["temperature=2"]));
        Assert.That(e!.Message, Does.Contain("temperature"));
    }

    [Test]
    public void RunSeedGoesToTrainersWithASeedUnlessParamSetsIt()
    {
        var schema = new HyperparameterSchema<SeededOptions>(new()).Seed(o => o.Seed, (o, v) => o with { Seed = v }, name: "random-state");
        var catalog = TestCatalogs.Centroids().Add(TrainerRegistration.For("seeded", "has a seed", schema,
            o => new SeededTrainer(o.Seed), _ => throw new NotSupportedException()));
        var trainers = TrainerSelection.Create(catalog, ["centroid", "seeded"], [], seed: 7);
        Assert.That(trainers[1].Hyperparameters["random-state"], Is.EqualTo(7), "the schema, not the name, says which hyperparameter is the seed");
        Assert.That(trainers[0].Hyperparameters.Keys, Is.EquivalentTo(new[] { "temperature", "max-per-class" }), "trainers without a seed are left alone");

        var overridden = TrainerSelection.Create(catalog, ["seeded"], ["random-state=3"], seed: 7);
        Assert.That(overridden[0].Hyperparameters["random-state"], Is.EqualTo(3));
    }

    private sealed record SeededOptions
    {
        public int Seed { get; init; }
    }

    private sealed class SeededTrainer(int seed) : ITrainer
    {
        public string Name => "seeded";
        public IReadOnlyDictionary<string, object> Hyperparameters => new Dictionary<string, object> { ["random-state"] = seed };
        public ITrainedModel Fit(Mnist.Core.Data.DigitDataView train, Mnist.Core.Data.DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }

    [Test]
    public void CreatedTrainersCarryTheirOverrides()
    {
        var trainers = TrainerSelection.Create(TestCatalogs.Centroids(), ["centroid"], ["temperature=2.5"]);
        Assert.That(trainers.Single().Hyperparameters["temperature"], Is.EqualTo(2.5));
    }
}

[TestFixture]
public sealed class DataFolderLocatorTests
{
    private string _root = null!;

    [SetUp]
    public void CreateTree()
    {
        _root = RunnerHarness.TempFolder("locate");
        File.WriteAllText(Path.Combine(_root, "MnistExperiments.sln"), "");
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        Directory.CreateDirectory(Path.Combine(_root, "src", "deep", "er"));
    }

    [TearDown]
    public void DeleteTree() => RunnerHarness.DeleteQuietly(_root);

    [Test]
    public void FindsDataBesideTheSolutionWalkingUpFromTheCurrentDirectory()
    {
        Assert.That(DataFolderLocator.Find(Path.Combine(_root, "src", "deep", "er"), null), Is.EqualTo(Path.Combine(_root, "data")));
    }

    [Test]
    public void FallsBackToTheApplicationFolder()
    {
        string elsewhere = RunnerHarness.TempFolder("elsewhere");
        try
        {
            Assert.That(DataFolderLocator.Find(elsewhere, Path.Combine(_root, "src", "deep")), Is.EqualTo(Path.Combine(_root, "data")));
        }
        finally
        {
            RunnerHarness.DeleteQuietly(elsewhere);
        }
    }

    [Test]
    public void PrefersDataInTheCurrentDirectory()
    {
        string local = Path.Combine(_root, "src", "data");
        Directory.CreateDirectory(local);
        Assert.That(DataFolderLocator.Find(Path.Combine(_root, "src"), null), Is.EqualTo(local));
    }

    [Test]
    public void ReturnsNullWhenThereIsNoRepository()
    {
        string elsewhere = RunnerHarness.TempFolder("nothing");
        try
        {
            Assert.That(DataFolderLocator.Find(elsewhere, elsewhere), Is.Null);
        }
        finally
        {
            RunnerHarness.DeleteQuietly(elsewhere);
        }
    }

    [Test]
    public void TheRealRepositoryDataIsFoundFromTheTestFolder()
    {
        string testDirectory = TestContext.CurrentContext.TestDirectory;
        Assert.That(DataFolderLocator.Find(testDirectory, testDirectory), Is.EqualTo(RunnerHarness.RealDataFolder()));
    }
}

[TestFixture]
public sealed class FitProgressTests
{
    [Test]
    public void LiveDescriptionsAreCutToFitAndEscaped()
    {
        Assert.That(FitProgress.Describe("logreg", "epoch [3/12]", 40), Is.EqualTo("[bold]logreg[/] epoch [[3/12]]"));
        Assert.That(FitProgress.Describe("logreg", "done in 11.2 s, test 92.58%, validation 92.52%", 20), Is.EqualTo("[bold]logreg[/] done in 11.2…"), "6 + 1 + 13 = 20 visible characters");
        Assert.That(FitProgress.Describe("a-very-long-trainer-name", "x", 10), Is.EqualTo("[bold]a-very-lo…[/]"));
    }

    [Test]
    public void PlainProgressPrintsEveryMilestoneWhateverItsText()
    {
        var output = new StringWriter();
        var progress = new FitProgress.PlainProgress(RunnerEnvironment.PlainConsole(output), "t");
        progress.Start();
        var record = new Mnist.Core.Training.EpochRecord(1, 0.5, null, null, null, 0.1, 1, 100);
        for (int i = 1; i <= 30; i++) progress.Report(new Mnist.Core.Training.TrainingProgress(i / 1000.0, $"stage {i}", record, Milestone: true));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines.Count(l => l.Contains("stage ", StringComparison.Ordinal)), Is.EqualTo(30), "a milestone is never thinned out, whatever its stage text says");
    }

    [Test]
    public void PlainProgressPrintsAboutTenLinesNotOnePerReport()
    {
        var output = new StringWriter();
        var progress = new FitProgress.PlainProgress(RunnerEnvironment.PlainConsole(output), "t");
        progress.Start();
        for (int i = 1; i <= 5000; i++) progress.Report(new Mnist.Core.Training.TrainingProgress(i / 5000.0, $"step {i}"));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.InRange(10, 12));
        Assert.That(lines[^1], Does.Contain("100% step 5000"));
    }
}
