using System.Text.Json;
using Mnist.Core.Evaluation;
using Mnist.Core.Reporting;
using Mnist.Core.Training;

namespace Mnist.Tests.Reporting;

internal static class SampleResults
{
    public static ModelResult Model(string trainer, bool withTestLabels = true, bool withHistory = true, IReadOnlyDictionary<string, object>? hyperparameters = null)
    {
        // 3 classes keep the fixtures readable; the writers do not assume 10.
        int[] truth = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2];
        int[] predicted = [0, 0, 1, 1, 1, 1, 2, 2, 0, 2];
        var metrics = Evaluator.FromPredictions(truth, predicted, classCount: 3);
        TrainingHistory? history = null;
        if (withHistory)
        {
            history = new TrainingHistory();
            history.Add(new EpochRecord(1, 0.9, 0.7, 0.8, 0.75, 0.1, 1.5, 4000));
            history.Add(new EpochRecord(2, 0.5, null, null, null, 0.05, 1.25, 4100));
        }
        return ModelResult.Create(trainer, hyperparameters ?? new Dictionary<string, object> { ["l2"] = 1e-4, ["epochs"] = 3 },
            train: metrics, validation: metrics, test: withTestLabels ? metrics : null,
            fitSeconds: 11.25, predictSeconds: 0.05, predictSet: DataSplit.Test, predictCount: 10, history);
    }

    public static ExperimentResults Experiment(params ModelResult[] models) => new()
    {
        Version = "0.1.0+test",
        Seed = 42,
        Threads = 2,
        TrainCount = 54000,
        ValidationCount = 6000,
        TestCount = 10000,
        TestHasLabels = models.All(m => m.TestAccuracy is not null),
        DataFolder = "/data",
        DataFormat = "mnist-idx",
        DataFiles = ["/data/train-images-idx3-ubyte.gz"],
        ValidationFraction = 0.1,
        Command = "mnist compare --seed 42",
        CreatedUtc = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        Machine = new MachineInfo("Linux test", "X64", 2, "Test CPU @ 3GHz", ".NET 10.0.0", 24),
        Models = models,
    };
}

[TestFixture]
public sealed class MarkdownReportWriterTests
{
    [Test]
    public void SummaryTableHasOneRowPerModelWithPercentagesAndTimes()
    {
        string md = MarkdownReportWriter.Render(SampleResults.Experiment(SampleResults.Model("logreg"), SampleResults.Model("svm", withTestLabels: false)));
        Assert.That(md, Does.StartWith("# MNIST compare, 2025-01-02 03:04:05 UTC"));
        Assert.That(md, Does.Contain("| Trainer | Engine | Train acc | Validation acc | Test acc | Fit time | Predict time |\n|---|---|---:|---:|---:|---:|---:|\n"));
        Assert.That(md, Does.Contain("| logreg | own | 80.00% | 80.00% | 80.00% | 11.3 s | 0.05 s |"));
        Assert.That(md, Does.Contain("| svm | own | 80.00% | 80.00% | — | 11.3 s | 0.05 s |"));
    }

    [Test]
    public void ConfusionMatrixIsAMarkdownTableWithTheDiagonalInBold()
    {
        string md = MarkdownReportWriter.Render(SampleResults.Experiment(SampleResults.Model("logreg")));
        Assert.That(md, Does.Contain("#### Confusion matrix (test set, 10 images; rows = true class, columns = predicted)"));
        Assert.That(md, Does.Contain(
            "| true \\ predicted | 0 | 1 | 2 |\n" +
            "|---:|---:|---:|---:|\n" +
            "| **0** | **2** | 1 | 0 |\n" +
            "| **1** | 0 | **3** | 0 |\n" +
            "| **2** | 1 | 0 | **3** |\n"));
    }

    [Test]
    public void PerClassTableMacroF1AndMostConfusedPairs()
    {
        string md = MarkdownReportWriter.Render(SampleResults.Experiment(SampleResults.Model("logreg")));
        Assert.That(md, Does.Contain("| Class | Precision | Recall | F1 | Support |"));
        Assert.That(md, Does.Contain("| 1 | 0.7500 | 1.0000 | 0.8571 | 3 |"));
        Assert.That(md, Does.Contain("Macro-F1: 0.7937; log-loss: n/a"));
        Assert.That(md, Does.Contain("- true 0 predicted as 1: 1\n- true 2 predicted as 0: 1\n"));
    }

    [Test]
    public void WithoutTestLabelsTheReportSaysTheMatrixIsOnValidation()
    {
        string md = MarkdownReportWriter.Render(SampleResults.Experiment(SampleResults.Model("logreg", withTestLabels: false)));
        Assert.That(md, Does.Contain("test set has no labels"));
        Assert.That(md, Does.Contain("#### Confusion matrix (validation set, 10 images"));
    }

    [Test]
    public void HistoryTableOnlyWhenTheModelHasOne()
    {
        string with = MarkdownReportWriter.Render(SampleResults.Experiment(SampleResults.Model("cnn")));
        string without = MarkdownReportWriter.Render(SampleResults.Experiment(SampleResults.Model("knn", withHistory: false)));
        Assert.That(with, Does.Contain("#### Training history"));
        Assert.That(with, Does.Contain("| 1 | 0.9000 | 70.00% | 0.8000 | 75.00% | 0.1 | 1.50 | 4000 |"));
        Assert.That(with, Does.Contain("| 2 | 0.5000 | — | — | — | 0.05 | 1.25 | 4100 |"));
        Assert.That(without, Does.Not.Contain("Training history"));
    }

    [Test]
    public void SettingsMachineAndHyperparametersAreListed()
    {
        string md = MarkdownReportWriter.Render(SampleResults.Experiment(SampleResults.Model("logreg")));
        Assert.That(md, Does.Contain("- Data: `/data` (mnist-idx)"));
        Assert.That(md, Does.Contain("- Images: 54000 train, 6000 validation, 10000 test (labelled)"));
        Assert.That(md, Does.Contain("- Seed: 42\n- Threads: 2\n- Command: `mnist compare --seed 42`"));
        Assert.That(md, Does.Contain("- CPUs: 2 × Test CPU @ 3GHz"));
        Assert.That(md, Does.Contain("- MnistExperiments version: 0.1.0+test"));
        Assert.That(md, Does.Contain("| epochs | 3 |\n| l2 | 0.0001 |"));
    }

    [Test]
    public void PipesInNamesAndValuesAreEscaped()
    {
        var model = SampleResults.Model("a|b", hyperparameters: new Dictionary<string, object> { ["layers"] = "conv|pool" });
        string md = MarkdownReportWriter.Render(SampleResults.Experiment(model));
        Assert.That(md, Does.Contain("| a\\|b | own | 80.00% |"));
        Assert.That(md, Does.Contain("| layers | conv\\|pool |"));
    }

    [TestCase(0.0042, "4.2 ms")]
    [TestCase(1.234, "1.23 s")]
    [TestCase(75.0, "75.0 s")]
    [TestCase(185.0, "3 min 05 s")]
    public void DurationsAreReadable(double seconds, string expected)
    {
        Assert.That(MarkdownReportWriter.Seconds(seconds), Is.EqualTo(expected));
    }

    [Test]
    public void WriteIsAtomicAndReplacesTheFileWhole()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"mnist-md-{Guid.NewGuid():N}");
        try
        {
            string path = Path.Combine(folder, "report.md");
            MarkdownReportWriter.Write(path, SampleResults.Experiment(SampleResults.Model("first")));
            MarkdownReportWriter.Write(path, SampleResults.Experiment(SampleResults.Model("second")));
            Assert.That(File.ReadAllText(path), Does.Contain("### second").And.Not.Contain("### first"));
            Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1), "no temporary files left behind");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}

[TestFixture]
public sealed class ResultsJsonWriterTests
{
    [Test]
    public void ContractFieldsAreCamelCaseAndTyped()
    {
        string json = ResultsJsonWriter.Serialize(SampleResults.Experiment(SampleResults.Model("logreg", withTestLabels: false)));
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("version").GetString(), Is.EqualTo("0.1.0+test"));
            Assert.That(root.GetProperty("seed").GetInt32(), Is.EqualTo(42));
            Assert.That(root.GetProperty("threads").GetInt32(), Is.EqualTo(2));
            Assert.That(root.GetProperty("trainCount").GetInt32(), Is.EqualTo(54000));
            Assert.That(root.GetProperty("validationCount").GetInt32(), Is.EqualTo(6000));
            Assert.That(root.GetProperty("testCount").GetInt32(), Is.EqualTo(10000));
        });
        var model = root.GetProperty("models")[0];
        Assert.Multiple(() =>
        {
            Assert.That(model.GetProperty("trainer").GetString(), Is.EqualTo("logreg"));
            Assert.That(model.GetProperty("hyperparameters").GetProperty("l2").GetDouble(), Is.EqualTo(1e-4));
            Assert.That(model.GetProperty("hyperparameters").GetProperty("epochs").GetInt32(), Is.EqualTo(3));
            Assert.That(model.GetProperty("trainAccuracy").GetDouble(), Is.EqualTo(0.8));
            Assert.That(model.GetProperty("validationAccuracy").GetDouble(), Is.EqualTo(0.8));
            Assert.That(model.GetProperty("testAccuracy").ValueKind, Is.EqualTo(JsonValueKind.Null), "null is written, not omitted");
            Assert.That(model.GetProperty("fitSeconds").GetDouble(), Is.EqualTo(11.25));
            Assert.That(model.GetProperty("predictSeconds").GetDouble(), Is.EqualTo(0.05));
            Assert.That(model.GetProperty("confusionMatrix")[2][0].GetInt32(), Is.EqualTo(1));
            Assert.That(model.GetProperty("perClass")[1].GetProperty("recall").GetDouble(), Is.EqualTo(1.0));
            Assert.That(model.GetProperty("history")[0].GetProperty("trainLoss").GetDouble(), Is.EqualTo(0.9));
        });
    }

    [Test]
    public void ConfusionMatrixRowsAreEachOnOneLine()
    {
        string json = ResultsJsonWriter.Serialize(SampleResults.Experiment(SampleResults.Model("logreg")));
        Assert.That(json, Does.Contain("[2, 1, 0]").And.Contain("[0, 3, 0]").And.Contain("[1, 0, 3]"));
    }

    [Test]
    public void RoundTripsThroughTheSameOptions()
    {
        var original = SampleResults.Experiment(SampleResults.Model("logreg"));
        var back = JsonSerializer.Deserialize<ExperimentResults>(ResultsJsonWriter.Serialize(original), ResultsJsonWriter.Options)!;
        Assert.That(back.Models[0].ConfusionMatrix, Is.EqualTo(original.Models[0].ConfusionMatrix));
        Assert.That(back.Models[0].TestAccuracy, Is.EqualTo(original.Models[0].TestAccuracy));
        Assert.That(back.Machine, Is.EqualTo(original.Machine));
    }

    [Test]
    public void NonFiniteLossesDoNotBreakTheWriter()
    {
        var history = new TrainingHistory();
        history.Add(new EpochRecord(1, double.NaN, null, double.PositiveInfinity, null, 0.1, 1, 1));
        var model = SampleResults.Model("diverged") with { History = history.Epochs };
        string json = ResultsJsonWriter.Serialize(SampleResults.Experiment(model));
        Assert.That(() => JsonDocument.Parse(json).Dispose(), Throws.Nothing);
        Assert.That(MarkdownReportWriter.Render(SampleResults.Experiment(model)), Does.Contain("| 1 | NaN |"));
    }
}

[TestFixture]
public sealed class MachineInfoTests
{
    [Test]
    public void ProcessorNameComesFromTheFirstModelNameLine()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n");
            Assert.That(MachineInfo.ReadProcessorName(path), Is.EqualTo("Intel(R) Xeon(R) CPU @ 2.20GHz"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MissingCpuinfoGivesNull()
    {
        Assert.That(MachineInfo.ReadProcessorName(Path.Combine(Path.GetTempPath(), $"no-cpuinfo-{Guid.NewGuid():N}")), Is.Null);
    }

    [Test]
    public void CurrentMachineAndVersionAreDescribed()
    {
        var machine = MachineInfo.Current();
        Assert.That(machine.ProcessorCount, Is.EqualTo(Environment.ProcessorCount));
        Assert.That(machine.DotnetVersion, Does.Contain(".NET"));
        Assert.That(MachineInfo.SoftwareVersion(), Does.StartWith("0.1.0"));
    }
}
