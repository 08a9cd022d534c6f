using System.Text.Json;
using Mnist.Core.Reporting;

namespace Mnist.Tests.Runner;

/// <summary>The ensemble through the runner (members beside the ensemble in the report, a Kaggle submission on every row) and <c>compare --repeat</c>.</summary>
[TestFixture]
public sealed class EnsembleRunnerTests
{
    private const string QuickMembers = "ensemble.members=logreg(max-iterations=10)+knn+mlp(epochs=2,batch-size=64)";
    private string _folder = "";

    [OneTimeSetUp]
    public void SetUp() => _folder = RunnerHarness.TempFolder("ensemble");

    [OneTimeTearDown]
    public void TearDown() => RunnerHarness.DeleteQuietly(_folder);

    private RunOutcome Run(params string[] args) => RunnerHarness.Run(Mnist.Runner.Catalogs.Default(), _folder, args);

    [Test]
    public void CompareReportsEachMembersAccuracyBesideTheEnsembles()
    {
        string output = Path.Combine(_folder, "compare");
        var outcome = Run("compare", "--trainers", "ensemble", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "1000", "--test-limit", "500",
            "--threads", "2", "--param", QuickMembers, "--out", output);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Contain("[ensemble]").And.Contain("member 3/3 (mlp): epoch 2/2").And.Contain("member 2/3 (knn) done, validation "));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var model = json.RootElement.GetProperty("models")[0];
        var members = model.GetProperty("members").EnumerateArray().ToList();
        Assert.That(members.Select(m => m.GetProperty("trainer").GetString()), Is.EqualTo(new[] { "logreg", "knn", "mlp" }));
        Assert.That(members.Select(m => m.GetProperty("index").GetInt32()), Is.EqualTo(new[] { 1, 2, 3 }));
        foreach (var member in members)
        {
            Assert.That(member.GetProperty("testAccuracy").GetDouble(), Is.InRange(0.5, 1.0));
            Assert.That(member.GetProperty("validationAccuracy").GetDouble(), Is.InRange(0.5, 1.0));
        }
        Assert.That(members[2].GetProperty("hyperparameters").GetProperty("seed").GetInt32(), Is.EqualTo(Mnist.Core.Training.Seeds.Derive(42, 2)), "the derived seed");
        string report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.That(report, Does.Contain("#### Members").And.Contain("| 2 | knn | own | ").And.Contain("| **all** | **ensemble** |"));
    }

    [Test]
    public void KaggleTrainsAnEnsembleOnEveryRowAndWritesTheSubmission()
    {
        string data = Path.Combine(_folder, "kaggle-data");
        Directory.CreateDirectory(data);
        var (train, test) = KaggleSubsets.Write(data, 600, 100);
        string submission = Path.Combine(_folder, "kaggle", "submission.csv");
        var outcome = Run("kaggle", "--train", train, "--test", test, "--trainer", "ensemble", "--validation-fraction", "0", "--threads", "2",
            "--param", QuickMembers["ensemble.".Length..], "--out", submission);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Contain("600 train, 0 validation, 100 test").And.Contain("trained on every row"));
        var lines = File.ReadAllLines(submission);
        Assert.That(lines, Has.Length.EqualTo(101));
        Assert.That(lines[0], Is.EqualTo("ImageId,Label"));
        Assert.That(lines.Skip(1).Select((l, i) => l.StartsWith($"{i + 1},", StringComparison.Ordinal)), Has.All.True);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "kaggle", "results.json")));
        var members = json.RootElement.GetProperty("models")[0].GetProperty("members").EnumerateArray().ToList();
        Assert.That(members, Has.Count.EqualTo(3));
        Assert.That(members.Select(m => m.GetProperty("validationAccuracy").ValueKind), Has.All.EqualTo(JsonValueKind.Null), "no validation set");
        Assert.That(File.Exists(submission + ".ckpt"), Is.False, "the checkpoint is removed once the submission is written");
    }

    [Test]
    public void RepeatReportsMeanAndSampleStandardDeviationOverSeeds()
    {
        string output = Path.Combine(_folder, "repeat");
        var outcome = Run("compare", "--trainers", "mlp,logreg", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "600", "--test-limit", "300",
            "--threads", "2", "--param", "mlp.epochs=1", "--param", "logreg.max-iterations=5", "--repeat", "3", "--seed", "5", "--out", output);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        var results = JsonSerializer.Deserialize<ExperimentResults>(File.ReadAllText(Path.Combine(output, "results.json")), ResultsJsonWriter.Options)!;
        Assert.That(results.Repeats!.Count, Is.EqualTo(3));
        var mlp = results.Repeats.Trainers[0];
        Assert.That(mlp.Trainer, Is.EqualTo("mlp"));
        Assert.That(mlp.Runs.Select(r => r.Seed), Is.EqualTo(new[] { 5, 6, 7 }));
        Assert.That(mlp.Runs[0].TestAccuracy, Is.EqualTo(results.Models[0].TestAccuracy), "the first seed's run is the reported model");
        var tests = mlp.Runs.Select(r => r.TestAccuracy!.Value).ToList();
        Assert.That(tests.Distinct().Count(), Is.GreaterThan(1), "other seeds, other networks");
        Assert.That(mlp.TestMean, Is.EqualTo(tests.Average()).Within(1e-12));
        Assert.That(mlp.TestStandardDeviation, Is.EqualTo(Math.Sqrt(tests.Sum(t => (t - tests.Average()) * (t - tests.Average())) / 2)).Within(1e-12));
        Assert.That(results.Repeats.Trainers[1].TestStandardDeviation, Is.Zero, "logreg has no seed: the same fit three times");
        Assert.That(File.ReadAllText(Path.Combine(output, "report.md")), Does.Contain("## Repeats (3 seeds)").And.Contain("seeds 5..7"));
        Assert.That(Run("compare", "--trainers", "logreg", "--repeat", "0", "--out", Path.Combine(_folder, "bad")).ErrorLines.Single(),
            Is.EqualTo("error: --repeat must be a number of seeds in 1..1000, not 0"));
    }

    [Test]
    public void RepeatStatisticsOnKnownValues()
    {
        var runs = new[] { 0.99, 0.995, 0.997 }.Select((a, i) => new RepeatRun(i, a - 0.01, a, 2 * i + 1)).ToList();
        var summary = RepeatTrainerResult.Create("cnn", "own", runs);
        Assert.That(summary.TestMean, Is.EqualTo(0.994).Within(1e-12));
        // Deviations −0.004, 0.001, 0.003: squares sum to 26e-6; / (n − 1) = 13e-6.
        Assert.That(summary.TestStandardDeviation, Is.EqualTo(Math.Sqrt(13e-6)).Within(1e-12));
        Assert.That(summary.ValidationMean, Is.EqualTo(0.984).Within(1e-12));
        Assert.That(summary.ValidationStandardDeviation, Is.EqualTo(Math.Sqrt(13e-6)).Within(1e-12));
        Assert.That(summary.FitSeconds, Is.EqualTo(3));
        var noTest = RepeatTrainerResult.Create("x", "own", [new RepeatRun(1, 0.5, null, 1)]);
        Assert.That((noTest.TestMean, noTest.TestStandardDeviation, noTest.ValidationStandardDeviation), Is.EqualTo(((double?)null, (double?)null, (double?)0)));
        Assert.That(MarkdownReportWriter.MeanAndSd(0.994, Math.Sqrt(13e-6)), Is.EqualTo("99.40% ± 0.36 pt"));
    }
}
