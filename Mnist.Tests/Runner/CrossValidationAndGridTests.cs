using System.Text.Json;
using Mnist.Tests.Reporting;

namespace Mnist.Tests.Runner;

/// <summary><c>mnist cv</c> and <c>mnist grid</c> end to end on a small subset of the real MNIST files.</summary>
[TestFixture]
public sealed class CrossValidationAndGridTests : SharedTempFolderFixture
{
    private RunOutcome Run(params string[] args) => RunnerHarness.Run(TestCatalogs.Centroids(), Folder, args);

    private static JsonDocument Results(string folder) => JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json")));

    /// <summary>Runs a command on the real MNIST files into <paramref name="output"/> and requires it to succeed.</summary>
    private RunOutcome Succeeds(string output, params string[] args)
    {
        var outcome = Run([.. args, "--data", RunnerHarness.RealDataFolder(), "--out", output]);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        return outcome;
    }

    [Test]
    public void CrossValidationReportsEveryFoldAndTheMeanAndStandardDeviation()
    {
        string output = Path.Combine(Folder, "cv");
        var outcome = Succeeds(output, "cv", "--trainers", "centroid,centroid-raw", "--folds", "3", "--train-limit", "600", "--seed", "5");
        Assert.That(outcome.Error, Is.Empty);

        using var json = Results(output);
        var cv = json.RootElement.GetProperty("crossValidation");
        Assert.That(cv.GetProperty("folds").GetInt32(), Is.EqualTo(3));
        var trainers = cv.GetProperty("trainers").EnumerateArray().ToList();
        Assert.That(trainers.Select(t => t.GetProperty("trainer").GetString()), Is.EqualTo(new[] { "centroid", "centroid-raw" }));
        foreach (var trainer in trainers)
        {
            var folds = trainer.GetProperty("foldAccuracies").EnumerateArray().Select(a => a.GetDouble()).ToArray();
            Assert.That(folds, Has.Length.EqualTo(3));
            Assert.That(folds, Has.All.InRange(0.6, 1.0), "nearest centroid reaches ~80% on MNIST");
            double mean = folds.Average();
            double sd = Math.Sqrt(folds.Sum(a => (a - mean) * (a - mean)) / 2);
            Assert.That(trainer.GetProperty("meanAccuracy").GetDouble(), Is.EqualTo(mean).Within(1e-12));
            Assert.That(trainer.GetProperty("standardDeviation").GetDouble(), Is.EqualTo(sd).Within(1e-12));
        }
        Assert.That(json.RootElement.GetProperty("kind").GetString(), Is.EqualTo("cv"));
        Assert.That(json.RootElement.GetProperty("trainCount").GetInt32(), Is.EqualTo(600));
        Assert.That(json.RootElement.GetProperty("models").GetArrayLength(), Is.Zero);

        string report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.That(report, Does.Contain("## Cross-validation (3-fold, stratified)"));
        Assert.That(report, Does.Contain("| Trainer | Mean acc | Std dev | Fold 1 | Fold 2 | Fold 3 | Fit time |"));
        Assert.That(report, Does.Match(@"\| centroid \| \d+\.\d\d% \| \d+\.\d\d pt \| \d+\.\d\d% \| \d+\.\d\d% \| \d+\.\d\d% \|"));
        Assert.That(ReportFolder.AssertPicturesAreValid(output), Is.EqualTo(new[] { "cross-validation.svg" }));
        Assert.That(outcome.Output, Does.Contain("Mean acc").And.Contain("Fold 3"));
    }

    [Test]
    public void HoldoutGridRanksEveryCombinationAndRefitsTheBest()
    {
        string output = Path.Combine(Folder, "grid");
        Succeeds(output, "grid", "--trainer", "centroid", "--param", "max-per-class=1,50", "--param", "temperature=2,8",
            "--train-limit", "800", "--test-limit", "200");

        using var json = Results(output);
        var grid = json.RootElement.GetProperty("gridSearch");
        var candidates = grid.GetProperty("candidates").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(grid.GetProperty("method").GetString(), Is.EqualTo("holdout"));
            Assert.That(grid.GetProperty("parameters").EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "max-per-class", "temperature" }));
            Assert.That(candidates, Has.Count.EqualTo(4));
            Assert.That(candidates.Select(c => c.GetProperty("rank").GetInt32()), Is.EqualTo(new[] { 1, 2, 3, 4 }));
            Assert.That(candidates.Select(c => c.GetProperty("score").GetDouble()), Is.Ordered.Descending);
            Assert.That(candidates[0].GetProperty("parameters").GetProperty("max-per-class").GetInt32(), Is.EqualTo(50), "more images per centroid beat one");
            Assert.That(candidates[0].GetProperty("standardDeviation").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
        foreach (var candidate in candidates)
            foreach (var parameter in candidate.GetProperty("parameters").EnumerateObject())
                Assert.That(parameter.Value.GetRawText(), Is.EqualTo(candidate.GetProperty("hyperparameters").GetProperty(parameter.Name).GetRawText()),
                    "grid parameters use the same names and values as 'hyperparameters'");

        var model = json.RootElement.GetProperty("models")[0];
        Assert.Multiple(() =>
        {
            Assert.That(model.GetProperty("hyperparameters").GetProperty("max-per-class").GetInt32(), Is.EqualTo(50));
            Assert.That(model.GetProperty("testAccuracy").GetDouble(), Is.GreaterThan(0.6));
            Assert.That(json.RootElement.GetProperty("trainCount").GetInt32(), Is.EqualTo(800), "refitted on the whole training set");
            Assert.That(grid.GetProperty("best").GetProperty("rank").GetInt32(), Is.EqualTo(1));
        });

        string report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.That(report, Does.Contain("## Grid search: centroid (holdout validation, fraction 0.1)"));
        Assert.That(report, Does.Contain("| Rank | max-per-class | temperature | Validation acc | Fit time |"));
        Assert.That(report, Does.Match(@"\| 1 \| 50 \| \d \| \*\*\d+\.\d\d%\*\* \|"));
        Assert.That(report, Does.Contain("refitted on the whole training set; test accuracy"));
        var links = ReportFolder.AssertPicturesAreValid(output);
        Assert.That(links, Does.Contain("grid-search.svg").And.Contain("confusion-centroid.svg").And.Contain("samples-centroid.svg"));
    }

    [Test]
    public void KFoldGridReportsTheSpreadOfEachCombination()
    {
        string output = Path.Combine(Folder, "grid-kfold");
        Succeeds(output, "grid", "--trainer", "centroid", "--param", "max-per-class=2,40", "--folds", "3",
            "--train-limit", "600", "--test-limit", "100");

        using var json = Results(output);
        var grid = json.RootElement.GetProperty("gridSearch");
        Assert.That(grid.GetProperty("method").GetString(), Is.EqualTo("k-fold"));
        Assert.That(grid.GetProperty("folds").GetInt32(), Is.EqualTo(3));
        foreach (var candidate in grid.GetProperty("candidates").EnumerateArray())
        {
            Assert.That(candidate.GetProperty("foldAccuracies").GetArrayLength(), Is.EqualTo(3));
            Assert.That(candidate.GetProperty("standardDeviation").ValueKind, Is.EqualTo(JsonValueKind.Number));
        }
        string report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.That(report, Does.Contain("(3-fold cross-validation)").And.Contain("| Rank | max-per-class | Mean acc | Std dev | Folds | Fit time |"));
    }

    [TestCase("grid", "--trainer centroid --param nosuch=1,2", "'nosuch'")]
    [TestCase("grid", "--trainer centroid --param temperature=hot,2", "temperature")]
    [TestCase("grid", "--trainer centroid --param temperature=2,-1", "Hyperparameter 'temperature' must be > 0, not -1")]
    [TestCase("grid", "--trainer centroid --param centroid.max-per-class=1,2.5", "must be an integer")]
    [TestCase("grid", "--trainer centroid", "--param")]
    [TestCase("grid", "--trainer centroid --param temperature=1,,2", "empty value")]
    [TestCase("grid", "--trainer centroid --param temperature=1 --param temperature=2", "given twice")]
    [TestCase("grid", "--trainer centroid --param temperature=1,2 --folds 1", "--folds")]
    [TestCase("grid", "--trainer centroid --param temperature=1,2 --validation-fraction 0", "--folds K")]
    [TestCase("grid", "--param temperature=1,2", "--trainer is required")]
    [TestCase("cv", "--folds 1", "--folds must be at least 2")]
    [TestCase("cv", "--trainers nope", "unknown trainer 'nope'")]
    [TestCase("cv", "--folds 700", "more than the")]
    public void BadGridAndCvOptionsAreOneLineExitTwo(string command, string arguments, string expected)
    {
        string output = Path.Combine(Folder, "bad-" + Guid.NewGuid().ToString("N"));
        var outcome = Run([command, .. arguments.Split(' '), "--data", RunnerHarness.RealDataFolder(), "--train-limit", "600", "--out", output]);
        outcome.AssertOneErrorLine(expected);
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void CtrlCDuringCrossValidationExits130AndWritesNothing()
    {
        string output = Path.Combine(Folder, "cv-interrupted");
        using var source = new CancellationTokenSource();
        var outcome = RunnerHarness.Run(TestCatalogs.WithCtrlC(source), Folder, source.Token,
            "cv", "--trainers", "centroid,ctrl-c", "--folds", "2", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "200", "--out", output);
        Assert.That(outcome.ExitCode, Is.EqualTo(130));
        Assert.That(outcome.Error, Does.Contain("interrupted").And.Not.Contain("   at "));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void CrashingTrainerInCvExits1NamingIt_GridChecksHyperparametersBeforeTraining()
    {
        string output = Path.Combine(Folder, "grid-crash");
        var outcome = RunnerHarness.Run(TestCatalogs.WithCrash(), Folder,
            "grid", "--trainer", "boom", "--param", "x=1,2", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "200", "--out", output);
        // The crashing test trainer has no hyperparameter 'x': a usage error before any training.
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines.Single(), Does.Contain("'x'"));

        var crash = RunnerHarness.Run(TestCatalogs.WithCrash(), Folder,
            "cv", "--trainers", "centroid,boom", "--folds", "2", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "200", "--out", output);
        Assert.That(crash.ExitCode, Is.EqualTo(1));
        Assert.That(crash.ErrorLines[0], Is.EqualTo("error: trainer 'boom' failed: InvalidOperationException: weights exploded; no results written"));
        Assert.That(Directory.Exists(output), Is.False);
    }
}
