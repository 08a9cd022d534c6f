using System.Text.Json;

namespace Mnist.Tests.Runner;

/// <summary>One real <c>mnist compare</c> run on a subset of the repository's MNIST files, checked from several sides.</summary>
[TestFixture]
public sealed class CompareEndToEndTests : SharedTempFolderFixture
{
    private const int TrainLimit = 2000;
    private const int TestLimit = 500;
    private string _outFolder = null!;
    private RunOutcome _outcome = null!;
    private JsonDocument _json = null!;
    private string _report = null!;

    [OneTimeSetUp]
    public void RunCompare()
    {
        _outFolder = Path.Combine(Folder, "out");
        _outcome = RunnerHarness.Run(TestCatalogs.Centroids(), Folder,
            "compare", "--data", RunnerHarness.RealDataFolder(), "--train-limit", $"{TrainLimit}", "--test-limit", $"{TestLimit}",
            "--seed", "7", "--threads", "1", "--out", _outFolder, "--param", "centroid.temperature=5");
        Assert.That(_outcome.ExitCode, Is.Zero, () => $"stdout:\n{_outcome.Output}\nstderr:\n{_outcome.Error}");
        _json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_outFolder, "results.json")));
        _report = File.ReadAllText(Path.Combine(_outFolder, "report.md"));
    }

    [OneTimeTearDown]
    public void CleanUp() => _json?.Dispose();

    [Test]
    public void RunsQuietlyOnStderr()
    {
        Assert.That(_outcome.Error, Is.Empty);
    }

    [Test]
    public void ResultsJsonHasTheTopLevelContract()
    {
        var root = _json.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("version").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(root.GetProperty("version").GetString(), Is.Not.Empty);
            Assert.That(root.GetProperty("seed").GetInt32(), Is.EqualTo(7));
            Assert.That(root.GetProperty("threads").GetInt32(), Is.EqualTo(1));
            // Stratified: each class rounds its own 10%, so the total may differ from 200 by a few.
            Assert.That(root.GetProperty("validationCount").GetInt32(), Is.InRange(195, 205));
            Assert.That(root.GetProperty("trainCount").GetInt32() + root.GetProperty("validationCount").GetInt32(), Is.EqualTo(TrainLimit));
            Assert.That(root.GetProperty("testCount").GetInt32(), Is.EqualTo(TestLimit));
            Assert.That(root.GetProperty("dataFormat").GetString(), Is.EqualTo("mnist-idx"));
            Assert.That(root.GetProperty("testHasLabels").GetBoolean(), Is.True);
            Assert.That(root.GetProperty("command").GetString(), Does.StartWith("mnist compare").And.Contain("--train-limit 2000"));
            Assert.That(root.GetProperty("models").GetArrayLength(), Is.EqualTo(2));
        });
    }

    [Test]
    public void EachModelHasTheContractFieldsWithSaneValues()
    {
        var models = _json.RootElement.GetProperty("models").EnumerateArray().ToList();
        Assert.That(models.Select(m => m.GetProperty("trainer").GetString()), Is.EqualTo(new[] { "centroid", "centroid-raw" }));
        foreach (var model in models)
        {
            string name = model.GetProperty("trainer").GetString()!;
            Assert.Multiple(() =>
            {
                Assert.That(model.GetProperty("hyperparameters").ValueKind, Is.EqualTo(JsonValueKind.Object), name);
                foreach (string field in new[] { "trainAccuracy", "validationAccuracy", "testAccuracy" })
                {
                    Assert.That(model.GetProperty(field).ValueKind, Is.EqualTo(JsonValueKind.Number), $"{name}.{field}");
                    Assert.That(model.GetProperty(field).GetDouble(), Is.InRange(0.0, 1.0), $"{name}.{field}");
                }
                // A nearest-centroid classifier reaches ~80% on MNIST: the pipeline must not scramble labels.
                Assert.That(model.GetProperty("testAccuracy").GetDouble(), Is.GreaterThan(0.6), name);
                Assert.That(model.GetProperty("fitSeconds").GetDouble(), Is.GreaterThanOrEqualTo(0), name);
                Assert.That(model.GetProperty("predictSeconds").GetDouble(), Is.GreaterThan(0), name);
                if (OperatingSystem.IsLinux())
                    Assert.That(model.GetProperty("peakWorkingSetBytes").GetInt64(),
                        Is.InRange(1L << 20, _json.RootElement.GetProperty("peakWorkingSetBytes").GetInt64()), $"{name}: its peak is within the run's");
                Assert.That(model.GetProperty("evaluationSet").GetString(), Is.EqualTo("test"), name);
            });
            var matrix = model.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
            Assert.That(matrix, Has.Length.EqualTo(10));
            Assert.That(matrix, Has.All.Length.EqualTo(10));
            Assert.That(matrix.Sum(r => r.Sum()), Is.EqualTo(TestLimit));
            int diagonal = Enumerable.Range(0, 10).Sum(i => matrix[i][i]);
            Assert.That(diagonal / (double)TestLimit, Is.EqualTo(model.GetProperty("testAccuracy").GetDouble()).Within(1e-12));
        }
    }

    [Test]
    public void TargetedParamReachesOnlyItsTrainer()
    {
        var models = _json.RootElement.GetProperty("models");
        Assert.That(models[0].GetProperty("hyperparameters").GetProperty("temperature").GetDouble(), Is.EqualTo(5.0));
        Assert.That(models[1].GetProperty("hyperparameters").EnumerateObject(), Is.Empty);
    }

    [Test]
    public void LogLossOnlyForCalibratedModels()
    {
        var models = _json.RootElement.GetProperty("models");
        Assert.That(models[0].GetProperty("logLoss").ValueKind, Is.EqualTo(JsonValueKind.Number));
        Assert.That(models[1].GetProperty("logLoss").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public void ReportHasSummarySettingsMachineAndPerModelSections()
    {
        Assert.That(_report, Does.Contain("| Trainer | Engine | Train acc | Validation acc | Test acc | Fit time | Predict time |"));
        Assert.That(_report, Does.Match(@"\| centroid \| own \| \d+\.\d\d% \| \d+\.\d\d% \| \d+\.\d\d% \|"));
        Assert.That(_report, Does.Match(@"\| centroid-raw \| own \| \d+\.\d\d% \|"));
        Assert.That(_report, Does.Contain("## Settings").And.Contain("- Seed: 7").And.Contain("- Threads: 1").And.Contain("- Train limit: 2000"));
        Assert.That(_report, Does.Contain("(mnist-idx)").And.Contain($"{TrainLimit - _json.RootElement.GetProperty("validationCount").GetInt32()} train, {_json.RootElement.GetProperty("validationCount").GetInt32()} validation, 500 test (labelled)"));
        Assert.That(_report, Does.Contain("## Machine").And.Contain("- .NET: ").And.Contain("MnistExperiments version: "));
        Assert.That(_report, Does.Contain("### centroid").And.Contain("### centroid-raw"));
        Assert.That(_report, Does.Contain("| temperature | 5 |"));
        Assert.That(_report, Does.Contain("#### Confusion matrix (test set, 500 images"));
        Assert.That(_report, Does.Contain("| true \\ predicted | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 |"));
        Assert.That(_report, Does.Contain("| Class | Precision | Recall | F1 | Support |").And.Contain("Macro-F1: "));
        Assert.That(_report, Does.Contain("#### Most confused (test set)"));
        Assert.That(_report, Does.Contain("#### Training history"));
    }

    [Test]
    public void ReportLinksPicturesThatExistBesideItAndParseAsSvg()
    {
        var links = Mnist.Tests.Reporting.ReportFolder.AssertPicturesAreValid(_outFolder);
        Assert.That(links, Does.Contain("accuracy.svg"));
        foreach (string trainer in new[] { "centroid", "centroid-raw" })
            foreach (string kind in new[] { "confusion", "samples", "misclassified", "confused-pairs", "confused-examples", "learning-loss", "learning-accuracy" })
                Assert.That(links, Does.Contain($"{kind}-{trainer}.svg"));
        Assert.That(_report.IndexOf("](accuracy.svg)", StringComparison.Ordinal), Is.LessThan(_report.IndexOf("## Settings", StringComparison.Ordinal)), "the accuracy chart sits under the summary table");
        Assert.That(_report, Does.Contain("#### Digits (test set)"));
    }

    [Test]
    public void ResultsEchoTheResolvedConfiguration()
    {
        var configuration = _json.RootElement.GetProperty("configuration");
        Assert.Multiple(() =>
        {
            Assert.That(configuration.GetProperty("seed").GetInt32(), Is.EqualTo(7));
            Assert.That(configuration.GetProperty("train-limit").GetInt32(), Is.EqualTo(TrainLimit));
            Assert.That(configuration.GetProperty("validation-fraction").GetDouble(), Is.EqualTo(0.1), "defaults are resolved too");
            Assert.That(configuration.GetProperty("param")[0].GetString(), Is.EqualTo("centroid.temperature=5"));
            Assert.That(configuration.GetProperty("trainers").GetArrayLength(), Is.Zero);
            Assert.That(configuration.TryGetProperty("config", out _), Is.False);
            Assert.That(_json.RootElement.GetProperty("configFile").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public void ConsoleShowsPlainProgressLinesAndTheSummaryTable()
    {
        var lines = _outcome.Output.Split('\n');
        Assert.That(lines.Count(l => l.StartsWith("[centroid] ", StringComparison.Ordinal)), Is.InRange(3, 20));
        Assert.That(_outcome.Output, Does.Contain("Trainer").And.Contain("Validation acc").And.Contain("Predict time"));
        Assert.That(_outcome.Output, Does.Contain("centroid-raw"));
        Assert.That(_outcome.Output, Does.Contain("results.json"));
    }
}
