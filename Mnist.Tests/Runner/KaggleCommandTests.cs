using System.Text;
using System.Text.Json;
using Mnist.Tests.Reporting;

namespace Mnist.Tests.Runner;

/// <summary><c>mnist kaggle</c> on the first 600 rows of Kaggle's train.csv and the first 200 of test.csv.</summary>
[TestFixture]
public sealed class KaggleCommandTests : SharedTempFolderFixture
{
    private const int TestRows = 200;
    private string _train = null!, _test = null!, _submission = null!;
    private RunOutcome _outcome = null!;

    [OneTimeSetUp]
    public void RunKaggle()
    {
        (_train, _test) = KaggleSubsets.Write(Folder, 600, TestRows);
        _submission = Path.Combine(Folder, "out", "submission.csv");
        _outcome = Kaggle("--train", _train, "--test", _test, "--trainer", "centroid", "--out", _submission, "--seed", "3", "--threads", "1");
        Assert.That(_outcome.ExitCode, Is.Zero, () => $"stdout:\n{_outcome.Output}\nstderr:\n{_outcome.Error}");
    }

    private RunOutcome Kaggle(params string[] args) => RunnerHarness.Run(TestCatalogs.Centroids(), Folder, ["kaggle", .. args]);

    [Test]
    public void SubmissionHasExactlyTheShapeOfKagglesSample()
    {
        byte[] bytes = File.ReadAllBytes(_submission);
        string text = Encoding.UTF8.GetString(bytes);
        string sample = File.ReadAllText(Path.Combine(KaggleSubsets.SharedFolder()!, "sample_submission.csv"));
        var lines = text.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(bytes.AsSpan(0, 3).SequenceEqual("Ima"u8), Is.True, "no byte-order mark");
            Assert.That(lines[0], Is.EqualTo(sample[..sample.IndexOf('\n')]), "the sample's header");
            Assert.That(text, Does.Not.Contain("\r"), "LF line endings, as in the sample");
            Assert.That(text, Does.EndWith("\n"), "a final newline, as in the sample");
            Assert.That(sample, Does.Not.Contain("\r").And.EndWith("\n"), "(the sample itself)");
            Assert.That(lines[^1], Is.Empty);
            Assert.That(lines, Has.Length.EqualTo(TestRows + 2));
        });
        for (int i = 1; i <= TestRows; i++)
        {
            var cells = lines[i].Split(',');
            Assert.That(cells, Has.Length.EqualTo(2), $"line {i + 1}");
            Assert.That(cells[0], Is.EqualTo(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), "ImageId 1..N in input order");
            Assert.That(int.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture), Is.InRange(0, 9));
        }
        var labels = lines.Skip(1).Take(TestRows).Select(l => l.Split(',')[1]).ToHashSet();
        Assert.That(labels, Has.Count.GreaterThanOrEqualTo(8), "a real model predicts most classes on 200 digits");
    }

    [Test]
    public void ReportsHeldOutValidationAccuracy()
    {
        Assert.That(_outcome.Output, Does.Match(@"Validation accuracy: \d+\.\d\d% on \d+ held-out images"));
        Assert.That(_outcome.Error, Is.Empty);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "out", "results.json")));
        var root = json.RootElement;
        var model = root.GetProperty("models")[0];
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("kind").GetString(), Is.EqualTo("kaggle"));
            // Stratified: each class rounds its own 10%.
            Assert.That(root.GetProperty("validationCount").GetInt32(), Is.InRange(55, 65));
            Assert.That(root.GetProperty("trainCount").GetInt32() + root.GetProperty("validationCount").GetInt32(), Is.EqualTo(600));
            Assert.That(_outcome.Output, Does.Contain($"on {root.GetProperty("validationCount").GetInt32()} held-out images"));
            Assert.That(root.GetProperty("testCount").GetInt32(), Is.EqualTo(TestRows));
            Assert.That(root.GetProperty("testHasLabels").GetBoolean(), Is.False);
            Assert.That(root.GetProperty("dataFormat").GetString(), Is.EqualTo("kaggle-csv"));
            Assert.That(root.GetProperty("submission").GetProperty("rows").GetInt32(), Is.EqualTo(TestRows));
            Assert.That(root.GetProperty("submission").GetProperty("path").GetString(), Is.EqualTo(_submission));
            Assert.That(root.GetProperty("submission").GetProperty("predictedClassCounts").EnumerateArray().Sum(c => c.GetInt32()), Is.EqualTo(TestRows));
            Assert.That(model.GetProperty("validationAccuracy").GetDouble(), Is.GreaterThan(0.6));
            Assert.That(model.GetProperty("testAccuracy").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(model.GetProperty("evaluationSet").GetString(), Is.EqualTo("validation"));
            Assert.That(root.GetProperty("configuration").GetProperty("trainer").GetString(), Is.EqualTo("centroid"));
        });
    }

    [Test]
    public void ReportAndPicturesSitBesideTheSubmission()
    {
        string folder = Path.GetDirectoryName(_submission)!;
        var links = ReportFolder.AssertPicturesAreValid(folder);
        Assert.That(links, Does.Contain("unlabelled-predictions-centroid.svg").And.Contain("confusion-centroid.svg").And.Contain("samples-centroid.svg"));
        string report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.That(report, Does.StartWith("# MNIST kaggle").And.Contain("## Submission").And.Contain("- Rows: 200"));
        Assert.That(Directory.GetFiles(folder, ".*.tmp"), Is.Empty, "no temporary files left behind");
    }

    [Test]
    public void ValidationFractionZeroTrainsOnEveryRow()
    {
        string submission = Path.Combine(Folder, "all", "sub.csv");
        var outcome = Kaggle("--train", _train, "--test", _test, "--trainer", "centroid", "--out", submission, "--validation-fraction", "0");
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "all", "results.json")));
        Assert.That(json.RootElement.GetProperty("trainCount").GetInt32(), Is.EqualTo(600));
        Assert.That(json.RootElement.GetProperty("validationCount").GetInt32(), Is.Zero);
        Assert.That(json.RootElement.GetProperty("models")[0].GetProperty("validationAccuracy").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(outcome.Output, Does.Contain("trained on every row"));
        Assert.That(File.ReadAllLines(submission), Has.Length.EqualTo(TestRows + 1));
    }

    [Test]
    public void AnExistingSubmissionIsNotOverwrittenWithoutForce()
    {
        string before = File.ReadAllText(_submission);
        var refused = Kaggle("--train", _train, "--test", _test, "--trainer", "centroid-raw", "--out", _submission);
        Assert.That(refused.ExitCode, Is.EqualTo(2));
        Assert.That(refused.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(refused.ErrorLines[0], Does.Contain("submission.csv").And.Contain("--force"));
        Assert.That(File.ReadAllText(_submission), Is.EqualTo(before));
    }

    [TestCase("missing-test")]
    [TestCase("unlabelled-train")]
    [TestCase("bad-row")]
    [TestCase("wrong-size")]
    [TestCase("no-trainer")]
    public void BadInputIsOneLineExitTwoAndWritesNothing(string problem)
    {
        string folder = Path.Combine(Folder, problem);
        Directory.CreateDirectory(folder);
        string submission = Path.Combine(folder, "out", "submission.csv");
        string train = _train, test = _test, expected;
        string[] trainer = ["--trainer", "centroid"];
        switch (problem)
        {
            case "missing-test":
                test = Path.Combine(folder, "nope.csv");
                expected = "nope.csv";
                break;
            case "unlabelled-train":
                train = _test;
                expected = "'label'";
                break;
            case "bad-row":
                test = Path.Combine(folder, "test.csv");
                var rows = File.ReadAllLines(_test).Take(5).ToList();
                rows[3] = rows[3].Replace(",0,", ",x,");
                File.WriteAllLines(test, rows);
                expected = "line 4";
                break;
            case "wrong-size":
                test = Path.Combine(folder, "test.csv");
                File.WriteAllLines(test, ["a,b,c,d", "0,0,0,0"]);
                expected = "pixels per image";
                break;
            default:
                trainer = [];
                expected = "--trainer is required";
                break;
        }
        var outcome = Kaggle(["--train", train, "--test", test, .. trainer, "--out", submission]);
        Assert.That(outcome.ExitCode, Is.EqualTo(2), outcome.Output);
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(outcome.ErrorLines[0], Does.StartWith("error: ").And.Contain(expected));
        Assert.That(Directory.Exists(Path.Combine(folder, "out")), Is.False, "nothing written");
    }
}
