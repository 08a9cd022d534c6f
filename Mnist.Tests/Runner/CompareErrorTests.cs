using System.IO.Compression;
using System.Text.Json;
using Mnist.Core.Training;

namespace Mnist.Tests.Runner;

/// <summary>Kaggle-style data without test labels, bad input, clobbering and interruption, on tiny synthetic data.</summary>
[TestFixture]
public sealed class CompareErrorTests : TempFolderFixture
{
    private string KaggleData(int trainPerClass = 10, int testPerClass = 2)
    {
        string data = Path.Combine(Folder, "kaggle");
        Directory.CreateDirectory(data);
        KaggleFixture.WriteTrain(Path.Combine(data, "train.csv"), trainPerClass);
        if (testPerClass > 0) KaggleFixture.WriteTest(Path.Combine(data, "test.csv"), testPerClass);
        return data;
    }

    private RunOutcome Compare(params string[] args) => RunnerHarness.Run(TestCatalogs.Centroids(), Folder, ["compare", .. args]);

    private string Output => Path.Combine(Folder, "out");

    /// <summary>Runs compare into <see cref="Output"/>, requires it to succeed and returns its results.json.</summary>
    private JsonDocument CompareResults(params string[] args)
    {
        var outcome = Compare([.. args, "--out", Output]);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        return JsonDocument.Parse(File.ReadAllText(Path.Combine(Output, "results.json")));
    }

    [Test]
    public void UnlabelledTestSetGivesNullTestAccuracyAndValidationConfusionMatrix()
    {
        string data = KaggleData();
        using var json = CompareResults("--data", data, "--validation-fraction", "0.2");
        var root = json.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("trainCount").GetInt32(), Is.EqualTo(80));
            Assert.That(root.GetProperty("validationCount").GetInt32(), Is.EqualTo(20));
            Assert.That(root.GetProperty("testCount").GetInt32(), Is.EqualTo(20));
            Assert.That(root.GetProperty("testHasLabels").GetBoolean(), Is.False);
            Assert.That(root.GetProperty("dataFormat").GetString(), Is.EqualTo("kaggle-csv"));
        });
        foreach (var model in root.GetProperty("models").EnumerateArray())
        {
            Assert.Multiple(() =>
            {
                Assert.That(model.GetProperty("testAccuracy").ValueKind, Is.EqualTo(JsonValueKind.Null));
                Assert.That(model.GetProperty("validationAccuracy").GetDouble(), Is.InRange(0.9, 1.0));
                Assert.That(model.GetProperty("evaluationSet").GetString(), Is.EqualTo("validation"));
                Assert.That(model.GetProperty("predictSet").GetString(), Is.EqualTo("test"));
                Assert.That(model.GetProperty("confusionMatrix").EnumerateArray().Sum(r => r.EnumerateArray().Sum(c => c.GetInt32())), Is.EqualTo(20));
            });
        }
        string report = File.ReadAllText(Path.Combine(Output, "report.md"));
        Assert.That(report, Does.Contain("#### Confusion matrix (validation set, 20 images").And.Contain("test set has no labels"));
        Assert.That(report, Does.Match(@"\| centroid \| own \| \d+\.\d\d% \| \d+\.\d\d% \| — \|"));
    }

    [Test]
    public void WithoutValidationOrTestLabelsTheMatrixComesFromTrain()
    {
        string data = KaggleData(trainPerClass: 5, testPerClass: 0);
        using var json = CompareResults("--data", data, "--validation-fraction", "0", "--trainers", "centroid");
        var model = json.RootElement.GetProperty("models")[0];
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("validationCount").GetInt32(), Is.Zero);
            Assert.That(json.RootElement.GetProperty("testCount").GetInt32(), Is.Zero);
            Assert.That(model.GetProperty("validationAccuracy").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(model.GetProperty("testAccuracy").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(model.GetProperty("evaluationSet").GetString(), Is.EqualTo("train"));
        });
    }

    [Test]
    public void DefaultOutputFolderIsTimestampedUnderReports()
    {
        string data = KaggleData(trainPerClass: 5, testPerClass: 1);
        var outcome = Compare("--data", data, "--trainers", "centroid");
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(File.Exists(Path.Combine(Folder, "reports", "20250102-030405", "results.json")), Is.True);
        Assert.That(File.Exists(Path.Combine(Folder, "reports", "20250102-030405", "report.md")), Is.True);
    }

    [Test]
    public void CsvWithWrongColumnCountIsOneLineErrorNamingTheFile()
    {
        string data = Path.Combine(Folder, "bad");
        Directory.CreateDirectory(data);
        string header = "label," + string.Join(',', Enumerable.Range(0, 784).Select(i => $"pixel{i}"));
        File.WriteAllText(Path.Combine(data, "train.csv"), header + "\n1," + string.Join(',', Enumerable.Repeat("0", 783)) + "\n");

        var outcome = Compare("--data", data, "--out", Output);

        outcome.AssertOneErrorLine("train.csv", "line 2");
        Assert.That(File.Exists(Path.Combine(Output, "results.json")), Is.False);
        Assert.That(Directory.Exists(Output), Is.False);
    }

    [Test]
    public void TruncatedGzipIsOneLineErrorNamingTheFile()
    {
        string source = KaggleData(trainPerClass: 20, testPerClass: 0);
        string data = Path.Combine(Folder, "gz");
        Directory.CreateDirectory(data);
        using (var memory = new MemoryStream())
        {
            using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
                gzip.Write(File.ReadAllBytes(Path.Combine(source, "train.csv")));
            byte[] whole = memory.ToArray();
            File.WriteAllBytes(Path.Combine(data, "train.csv.gz"), whole.AsSpan(0, whole.Length / 2).ToArray());
        }

        var outcome = Compare("--data", data, "--out", Output);

        outcome.AssertOneErrorLine("train.csv.gz");
        Assert.That(File.Exists(Path.Combine(Output, "results.json")), Is.False);
    }

    [Test]
    public void MissingDataFolderIsOneLineError()
    {
        var outcome = Compare("--data", Path.Combine(Folder, "nowhere"), "--out", Path.Combine(Folder, "out"));
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(outcome.ErrorLines[0], Does.Contain("nowhere").And.Contain("not found"));
    }

    [Test]
    public void ExistingResultsAreNotClobberedWithoutForce()
    {
        string data = KaggleData(trainPerClass: 5, testPerClass: 1);
        Directory.CreateDirectory(Output);
        string results = Path.Combine(Output, "results.json");
        File.WriteAllText(results, "{\"precious\": true}");

        var refused = Compare("--data", data, "--out", Output);
        Assert.That(refused.ExitCode, Is.EqualTo(2));
        Assert.That(refused.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(refused.ErrorLines[0], Does.Contain("results.json").And.Contain("--force"));
        Assert.That(File.ReadAllText(results), Is.EqualTo("{\"precious\": true}"));
        Assert.That(File.Exists(Path.Combine(Output, "report.md")), Is.False);

        var forced = Compare("--data", data, "--out", Output, "--force");
        Assert.That(forced.ExitCode, Is.Zero, forced.Error);
        using var json = JsonDocument.Parse(File.ReadAllText(results));
        Assert.That(json.RootElement.TryGetProperty("models", out _), Is.True);
    }

    [TestCase("--trainers", "nope", "unknown trainer 'nope'")]
    [TestCase("--validation-fraction", "1", "--validation-fraction")]
    [TestCase("--validation-fraction", "-0.1", "--validation-fraction")]
    [TestCase("--param", "temperature", "name=value")]
    [TestCase("--param", "nosuch=1", "'nosuch'")]
    [TestCase("--param", "temperature=hot", "temperature")]
    [TestCase("--train-limit", "0", "--train-limit")]
    [TestCase("--threads", "0", "--threads")]
    public void BadValuesAreOneClearLineWithExitCode2(string option, string value, string expected)
    {
        string data = KaggleData(trainPerClass: 2, testPerClass: 0);
        var outcome = Compare("--data", data, "--out", Path.Combine(Folder, "out"), option, value);
        outcome.AssertOneErrorLine(expected);
        Assert.That(Directory.Exists(Path.Combine(Folder, "out")), Is.False);
    }

    [Test]
    public void ParamTargetingATrainerThatIsNotChosenIsRejected()
    {
        string data = KaggleData(trainPerClass: 2, testPerClass: 0);
        var outcome = Compare("--data", data, "--trainers", "centroid-raw", "--param", "centroid.temperature=3");
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines[0], Does.Contain("not among the chosen trainers"));
    }

    [Test]
    public void CommandLineParseErrorsExitNonZero()
    {
        var outcome = Compare("--no-such-option");
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.Error, Does.Contain("--no-such-option"));

        var notANumber = Compare("--seed", "abc");
        Assert.That(notANumber.ExitCode, Is.EqualTo(2));
    }

    [Test]
    public void CtrlCInterruptsWithExitCode130AndAnInterruptedReportOfTheFinishedTrainers()
    {
        string data = KaggleData(trainPerClass: 5, testPerClass: 1);
        using var source = new CancellationTokenSource();
        var outcome = RunnerHarness.Run(TestCatalogs.WithCtrlC(source), Folder, source.Token,
            "compare", "--data", data, "--out", Output);

        Assert.That(outcome.ExitCode, Is.EqualTo(130));
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(outcome.ErrorLines[0], Does.StartWith("interrupted: 2 of 3 trainers finished").And.Contain("--resume " + Output));
        Assert.That(outcome.Error, Does.Not.Contain("   at "));
        Assert.That(outcome.Output, Does.Contain("[centroid] done"), "the trainer before the interruption ran");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Output, "results.json")));
        Assert.That(json.RootElement.GetProperty("interrupted").GetBoolean(), Is.True);
        Assert.That(json.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("trainer").GetString()),
            Is.EqualTo(new[] { "centroid", "centroid-raw" }));
        Assert.That(json.RootElement.GetProperty("interruption").GetProperty("inProgress").GetString(), Is.EqualTo("ctrl-c"));
        Assert.That(File.ReadAllText(Path.Combine(Output, "report.md")), Does.Contain("INTERRUPTED"));
        Assert.That(File.Exists(Path.Combine(Output, "partial", "centroid.json")), Is.True);
    }

    [Test]
    public void AnInterruptedRepeatResumesWithTheNextSeed()
    {
        string data = KaggleData(trainPerClass: 5, testPerClass: 1);
        var fitted = new List<int>();
        using var source = new CancellationTokenSource();
        var pressCtrlCAtSeven = new TrainerCatalog().Add(SeedOnlyTrainer.Registration("seeded", onFit: seed =>
        {
            fitted.Add(seed);
            if (seed == 7) source.Cancel();
        }));
        var interrupted = RunnerHarness.Run(pressCtrlCAtSeven, Folder, source.Token,
            "compare", "--data", data, "--trainers", "seeded", "--repeat", "3", "--seed", "5", "--out", Output);
        Assert.That(interrupted.ExitCode, Is.EqualTo(130), interrupted.Error);
        Assert.That(interrupted.ErrorLines.Single(), Does.StartWith("interrupted: 1 of 1 trainers finished (seeded's --repeat run 3/3, seed 7, will restart); wrote "));
        Assert.That(fitted, Is.EqualTo(new[] { 5, 6, 7 }));

        fitted.Clear();
        var resumed = RunnerHarness.Run(new TrainerCatalog().Add(SeedOnlyTrainer.Registration("seeded", onFit: fitted.Add)), Folder, "compare", "--resume", Output);
        Assert.That(resumed.ExitCode, Is.Zero, resumed.Error);
        Assert.That(fitted, Is.EqualTo(new[] { 7 }), "the seeds finished before the interruption are not fitted again");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Output, "results.json")));
        var runs = json.RootElement.GetProperty("repeats").GetProperty("trainers")[0].GetProperty("runs").EnumerateArray();
        Assert.That(runs.Select(r => r.GetProperty("seed").GetInt32()), Is.EqualTo(new[] { 5, 6, 7 }));
    }

    [TestCase("1.5")]
    [TestCase("1e12")]
    public void AResumeWhoseRecordedSeedIsNotAnIntegerIsOneErrorLine(string seed)
    {
        string data = KaggleData(trainPerClass: 5, testPerClass: 1);
        using var source = new CancellationTokenSource();
        Assert.That(RunnerHarness.Run(TestCatalogs.WithCtrlC(source), Folder, source.Token, "compare", "--data", data, "--out", Output).ExitCode, Is.EqualTo(130));
        string results = Path.Combine(Output, "results.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(results))!;
        root["configuration"]!["seed"] = System.Text.Json.Nodes.JsonNode.Parse(seed);
        File.WriteAllText(results, root.ToJsonString());

        RunnerHarness.Run(TestCatalogs.Centroids(), Folder, "compare", "--resume", Output)
            .AssertOneErrorLine(results, "'seed'", seed);
    }

    [Test]
    public void CrashingTrainerNamesTheTrainerExitsWith1AndWritesNoResults()
    {
        string data = KaggleData(trainPerClass: 5, testPerClass: 1);
        var outcome = RunnerHarness.Run(TestCatalogs.WithCrash(), Folder, "compare", "--data", data, "--out", Output);

        Assert.That(outcome.ExitCode, Is.EqualTo(1));
        Assert.That(outcome.ErrorLines[0], Is.EqualTo("error: trainer 'boom' failed: InvalidOperationException: weights exploded; no results written"));
        Assert.That(File.Exists(Path.Combine(Output, "results.json")), Is.False);
    }

    [Test]
    public void ThreadsOptionIsRecordedInTheResults()
    {
        string data = KaggleData(trainPerClass: 3, testPerClass: 0);
        using var json = CompareResults("--data", data, "--threads", "1", "--trainers", "centroid");
        Assert.That(json.RootElement.GetProperty("threads").GetInt32(), Is.EqualTo(1));
        Assert.That(Mnist.Core.Numerics.ComputeSettings.Threads, Is.EqualTo(Environment.ProcessorCount), "the harness restores the process-wide setting");
    }
}
