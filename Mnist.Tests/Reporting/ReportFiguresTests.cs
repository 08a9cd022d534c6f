using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Mnist.Core.Data;
using Mnist.Core.Reporting;

namespace Mnist.Tests.Reporting;

/// <summary>Checks a report folder: every picture report.md links to exists beside it and is well-formed SVG.</summary>
internal static class ReportFolder
{
    public static IReadOnlyList<string> LinkedPictures(string markdown) =>
        Regex.Matches(markdown, @"!\[[^\]]*\]\(([^)]+)\)").Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToList();

    /// <summary>Asserts every linked picture is a relative path to an existing, parseable SVG; returns the links.</summary>
    public static IReadOnlyList<string> AssertPicturesAreValid(string folder)
    {
        string markdown = File.ReadAllText(Path.Combine(folder, MarkdownReportWriter.FileName));
        var links = LinkedPictures(markdown);
        foreach (string link in links)
        {
            Assert.That(Path.IsPathRooted(link), Is.False, link);
            string path = Path.Combine(folder, link);
            Assert.That(File.Exists(path), Is.True, $"{link} is linked from report.md but missing");
            var document = XDocument.Load(path);
            Assert.That(document.Root!.Name, Is.EqualTo(Svg.Ns + "svg"), link);
        }
        return links;
    }
}

[TestFixture]
public sealed class ReportFiguresTests : TempFolderFixture
{
    /// <summary>The 10 images behind <see cref="SampleResults.Model"/>'s metrics: truth 0,0,0,1,1,1,2,2,2,2.</summary>
    private static ModelPredictions Predictions(string trainer)
    {
        byte[] labels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2];
        var pixels = new float[labels.Length * 784];
        for (int i = 0; i < labels.Length; i++) pixels[i * 784 + 100 + labels[i] * 28] = 1f;
        var view = new DigitDataView(28, 28, pixels, labels);
        return new ModelPredictions(trainer, DataSplit.Test, view, [0, 0, 1, 1, 1, 1, 2, 2, 0, 2]);
    }

    [Test]
    public void ExperimentReportWritesEveryPictureAndLinksThemFromReportMd()
    {
        var results = SampleResults.Experiment(SampleResults.Model("logreg"), SampleResults.Model("a|b c"));
        var written = ExperimentReport.Write(Folder, results, [Predictions("logreg"), Predictions("a|b c")]);

        var kinds = written.Figures.Where(f => f.Trainer == "logreg").Select(f => f.Kind).ToList();
        Assert.That(kinds, Is.EquivalentTo(new[]
        {
            ReportFigures.LossCurveKind, ReportFigures.AccuracyCurveKind, ReportFigures.ConfusionKind, ReportFigures.SamplesKind,
            ReportFigures.MisclassifiedKind, ReportFigures.ConfusedPairsKind, ReportFigures.ConfusedExamplesKind,
        }));
        Assert.That(written.Figures.Count(f => f.Kind == ReportFigures.AccuracyKind), Is.EqualTo(1));
        Assert.That(written.Figures.Select(f => f.File), Is.Unique);
        Assert.That(written.Figures.Where(f => f.Trainer == "a|b c").Select(f => f.File), Has.All.Contains("a-b-c"), "file names are slugs");

        var links = ReportFolder.AssertPicturesAreValid(Folder);
        Assert.That(links, Is.EquivalentTo(written.Figures.Select(f => f.File)), "every picture is linked exactly once");
        var svgFiles = Directory.GetFiles(Folder, "*.svg").Select(Path.GetFileName);
        Assert.That(svgFiles, Is.EquivalentTo(links));
        var accuracy = XDocument.Load(Path.Combine(Folder, written.Figures.Single(f => f.Kind == ReportFigures.AccuracyKind).File));
        Assert.That(Svg.Texts(accuracy), Is.SupersetOf(new[] { "Test accuracy per model", "logreg", "a|b c", "test accuracy (%)" }), "title, one labelled bar per model, axis title");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "results.json")));
        Assert.That(json.RootElement.GetProperty("figures").GetArrayLength(), Is.EqualTo(written.Figures.Count));
    }

    [Test]
    public void SamplePictureFramesExactlyTheMisclassifiedDigits()
    {
        var written = ExperimentReport.Write(Folder, SampleResults.Experiment(SampleResults.Model("logreg")), [Predictions("logreg")]);
        var samples = XDocument.Load(Path.Combine(Folder, written.Figures.Single(f => f.Kind == ReportFigures.SamplesKind).File));
        var misclassified = XDocument.Load(Path.Combine(Folder, written.Figures.Single(f => f.Kind == ReportFigures.MisclassifiedKind).File));
        const string red = Mnist.Core.Reporting.Charts.ChartStyle.Highlight;
        Assert.Multiple(() =>
        {
            Assert.That(Svg.All(samples, "image"), Has.Count.EqualTo(10));
            Assert.That(Svg.All(samples, "rect").Count(r => r.Attribute("stroke")?.Value == red), Is.EqualTo(2));
            Assert.That(Svg.All(samples, "text").Where(t => t.Attribute("fill")?.Value == red).Select(t => t.Value.Trim()), Is.EqualTo(new[] { "1/0", "0/2" }));
            Assert.That(Svg.All(misclassified, "image"), Has.Count.EqualTo(2));
        });
    }

    [Test]
    public void WithoutPredictionsOnlyTheChartsFromTheResultsAreDrawn()
    {
        var written = ExperimentReport.Write(Folder, SampleResults.Experiment(SampleResults.Model("knn", withHistory: false)));
        Assert.That(written.Figures.Select(f => f.Kind), Is.EquivalentTo(new[] { ReportFigures.AccuracyKind, ReportFigures.ConfusionKind, ReportFigures.ConfusedPairsKind }));
        ReportFolder.AssertPicturesAreValid(Folder);
    }

    [Test]
    public void UnlabelledTestDigitsGetTheirOwnGridInTheSubmissionSection()
    {
        var predictions = Predictions("logreg") with
        {
            UnlabelledImages = new DigitDataView(28, 28, new float[3 * 784]),
            UnlabelledPredicted = [4, 5, 6],
        };
        var results = SampleResults.Experiment(SampleResults.Model("logreg", withTestLabels: false)) with
        {
            Submission = new SubmissionResult("/x/submission.csv", 3, [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]),
        };
        var written = ExperimentReport.Write(Folder, results, [predictions]);
        var grid = written.Figures.Single(f => f.Kind == ReportFigures.UnlabelledKind);
        string md = File.ReadAllText(Path.Combine(Folder, "report.md"));
        Assert.That(md, Does.Contain("## Submission").And.Contain("- Rows: 3").And.Contain("4: 1, 5: 1, 6: 1"));
        Assert.That(md.IndexOf($"]({grid.File})", StringComparison.Ordinal), Is.GreaterThan(md.IndexOf("## Submission", StringComparison.Ordinal)));
        var texts = Svg.Texts(XDocument.Load(Path.Combine(Folder, grid.File)));
        Assert.That(texts, Is.SupersetOf(new[] { "4", "5", "6" }));
        ReportFolder.AssertPicturesAreValid(Folder);
    }

    [Test]
    public void CrossValidationOnlyReportHasItsTableAndChartButNoModelSections()
    {
        var cv = new CrossValidationResult(3, [
            CrossValidationTrainerResult.Create("logreg", new Dictionary<string, object> { ["l2"] = 1e-4 }, [0.9, 0.92, 0.94], 3.0),
            CrossValidationTrainerResult.Create("knn", new Dictionary<string, object>(), [0.95, 0.95, 0.95], 1.0),
        ]);
        var results = SampleResults.Experiment() with { CrossValidation = cv, Kind = "cv" };
        var written = ExperimentReport.Write(Folder, results);
        string md = File.ReadAllText(Path.Combine(Folder, "report.md"));
        Assert.That(md, Does.Contain("## Cross-validation (3-fold, stratified)"));
        Assert.That(md, Does.Contain("| Trainer | Mean acc | Std dev | Fold 1 | Fold 2 | Fold 3 | Fit time |"));
        Assert.That(md, Does.Contain("| logreg | 92.00% | 2.00 pt | 90.00% | 92.00% | 94.00% | 3.00 s |"));
        Assert.That(md, Does.Contain("| knn | 95.00% | 0.00 pt |"));
        Assert.That(md, Does.Not.Contain("## Models").And.Not.Contain("| Trainer | Engine | Train acc"));
        Assert.That(written.Figures.Select(f => f.Kind), Is.EqualTo(new[] { ReportFigures.CrossValidationKind }));
        ReportFolder.AssertPicturesAreValid(Folder);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "results.json")));
        var first = json.RootElement.GetProperty("crossValidation").GetProperty("trainers")[0];
        Assert.That(first.GetProperty("meanAccuracy").GetDouble(), Is.EqualTo(0.92).Within(1e-12));
        Assert.That(first.GetProperty("standardDeviation").GetDouble(), Is.EqualTo(0.02).Within(1e-12));
        Assert.That(first.GetProperty("foldAccuracies").GetArrayLength(), Is.EqualTo(3));
    }

    [Test]
    public void SampleStandardDeviationUsesNMinusOne()
    {
        Assert.That(Statistics.MeanAndSampleStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9]).StandardDeviation, Is.EqualTo(Math.Sqrt(32.0 / 7)).Within(1e-12));
        Assert.That(Statistics.MeanAndSampleStandardDeviation([0.5]), Is.EqualTo((0.5, 0.0)));
    }
}

[TestFixture]
public sealed class KaggleSubmissionTests
{
    [Test]
    public void HeaderThenOneLfTerminatedRowPerImageNumberedFromOne()
    {
        Assert.That(KaggleSubmission.Render([7, 0, 9]), Is.EqualTo("ImageId,Label\n1,7\n2,0\n3,9\n"));
    }

    [Test]
    public void LabelsOutsideZeroToNineAreRejected()
    {
        Assert.That(() => KaggleSubmission.Render([10]), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void TheShapeMatchesKagglesSampleSubmission()
    {
        string? kaggle = TestData.KaggleFolder;
        if (kaggle is null) Assert.Ignore("../shared/kaggle is not beside the repository");
        byte[] sample = File.ReadAllBytes(Path.Combine(kaggle!, "sample_submission.csv"));
        string text = System.Text.Encoding.UTF8.GetString(sample);
        int rows = text.Count(c => c == '\n') - 1;
        Assert.That(KaggleSubmission.Render(new int[rows]), Is.EqualTo(text), "same header, line endings, final newline and no BOM");
    }
}
