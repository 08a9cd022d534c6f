using System.Diagnostics;
using System.Text;
using Mnist.Core.Data;

namespace Mnist.Tests.Data;

public class KaggleCsvReaderTests : TempFolderFixture
{
    private static string Header(bool labelled, int pixels = 784) =>
        (labelled ? "label," : "") + string.Join(",", Enumerable.Range(0, pixels).Select(i => $"pixel{i}"));

    private static string Row(int? label, Func<int, int> pixel, int pixels = 784) =>
        (label is null ? "" : label + ",") + string.Join(",", Enumerable.Range(0, pixels).Select(pixel));

    private string Write(string name, string text, bool gzip = false)
    {
        string path = Path.Combine(Folder, name);
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        File.WriteAllBytes(path, gzip ? TestData.Gzip(bytes) : bytes);
        return path;
    }

    [Test]
    public void LabelledCsvWithBomAndCrlfLoads()
    {
        string text = "\uFEFF" + Header(true) + "\r\n" + Row(3, i => i % 256) + "\r\n" + Row(9, i => 255 - i % 256) + "\r\n";
        var view = KaggleCsvReader.Read(Write("train.csv", text));
        Assert.Multiple(() =>
        {
            Assert.That(view.Count, Is.EqualTo(2));
            Assert.That((view.Height, view.Width), Is.EqualTo((28, 28)));
            Assert.That(view.GetLabels(), Is.EqualTo(new byte[] { 3, 9 }));
            Assert.That(view.GetImage(0)[5], Is.EqualTo(5 / 255f));
            Assert.That(view.GetImage(1)[0], Is.EqualTo(1f));
            Assert.That(view.GetIds(), Is.EqualTo(new[] { 1, 2 }));
        });
    }

    [Test]
    public void UnlabelledGzipCsvLoadsWithoutLabels()
    {
        string text = Header(false) + "\n" + Row(null, i => i % 7) + "\n" + Row(null, _ => 0) + "\n" + Row(null, _ => 255);
        var view = KaggleCsvReader.Read(Write("test.csv.gz", text, gzip: true));
        Assert.Multiple(() =>
        {
            Assert.That(view.HasLabels, Is.False);
            Assert.That(view.Count, Is.EqualTo(3));
            Assert.That(view.GetImage(0)[6], Is.EqualTo(6 / 255f));
            Assert.That(view.GetImage(2)[783], Is.EqualTo(1f));
            Assert.That(view.GetIds(), Is.EqualTo(new[] { 1, 2, 3 }));
        });
    }

    [Test]
    public void WrongColumnCountNamesTheLine()
    {
        string text = Header(true) + "\n" + Row(1, _ => 0) + "\n" + Row(2, _ => 0, pixels: 783) + "\n";
        string path = Write("train.csv", text);
        var error = Assert.Throws<DataFormatException>(() => KaggleCsvReader.Read(path))!;
        Assert.That(error.Message, Is.EqualTo($"{path}, line 3: expected 785 columns (as in the header), found 784"));
        string tooMany = Write("wide.csv", Header(true) + "\n" + Row(1, _ => 0, pixels: 785) + "\n");
        Assert.That(() => KaggleCsvReader.Read(tooMany), Throws.TypeOf<DataFormatException>().With.Message.Contain("line 2: expected 785 columns"));
    }

    [TestCase("256")]
    [TestCase("-1")]
    [TestCase("1.5")]
    [TestCase("abc")]
    [TestCase("")]
    public void PixelThatIsNotAnIntegerInRangeNamesLineAndColumn(string bad)
    {
        string text = Header(true) + "\n" + Row(1, _ => 0) + "\n" + Row(4, i => i == 10 ? -999 : 0).Replace("-999", bad) + "\n";
        string path = Write("train.csv", text);
        var error = Assert.Throws<DataFormatException>(() => KaggleCsvReader.Read(path))!;
        Assert.That(error.Message, Is.EqualTo($"{path}, line 3, column 'pixel10': '{bad}' is not an integer in 0..255"));
    }

    [Test]
    public void LabelOutsideZeroToNineIsRejected()
    {
        string path = Write("train.csv", Header(true) + "\n" + Row(10, _ => 0) + "\n");
        Assert.That(() => KaggleCsvReader.Read(path),
            Throws.TypeOf<DataFormatException>().With.Message.EqualTo($"{path}, line 2, column 'label': label 10 is outside 0..9"));
    }

    [Test]
    public void HeaderOnlyAndEmptyFilesAreRejected()
    {
        string headerOnly = Write("train.csv", Header(true) + "\r\n");
        Assert.That(() => KaggleCsvReader.Read(headerOnly), Throws.TypeOf<DataFormatException>().With.Message.EqualTo($"{headerOnly}: the file has a header but no data rows"));
        string empty = Write("empty.csv", "");
        Assert.That(() => KaggleCsvReader.Read(empty), Throws.TypeOf<DataFormatException>().With.Message.EqualTo($"{empty}: the file is empty"));
    }

    [Test]
    public void NonSquarePixelCountIsRejected()
    {
        string path = Write("odd.csv", Header(true, pixels: 10) + "\n" + Row(1, _ => 0, pixels: 10) + "\n");
        Assert.That(() => KaggleCsvReader.Read(path), Throws.TypeOf<DataFormatException>().With.Message.Contain("line 1: 10 pixel columns is not a square"));
    }

    [Test]
    public void BlankLineInTheMiddleIsRejected()
    {
        string path = Write("gap.csv", Header(true) + "\n" + Row(1, _ => 0) + "\n\n" + Row(2, _ => 0) + "\n");
        Assert.That(() => KaggleCsvReader.Read(path), Throws.TypeOf<DataFormatException>().With.Message.Contain("line 3: empty line"));
    }

    [Test]
    public void RealKaggleTrainAndTestFilesLoadQuickly()
    {
        string? folder = TestData.KaggleFolder;
        if (folder is null) Assert.Ignore("../shared/kaggle is not beside this clone.");
        var watch = Stopwatch.StartNew();
        var train = KaggleCsvReader.Read(Path.Combine(folder, "train.csv.gz"));
        double seconds = watch.Elapsed.TotalSeconds;
        var test = KaggleCsvReader.Read(Path.Combine(folder, "test.csv.gz"));
        TestContext.Out.WriteLine($"train.csv.gz: {train.Count} rows in {seconds:F2} s");
        Assert.Multiple(() =>
        {
            Assert.That(train.Count, Is.EqualTo(42000));
            Assert.That(train.HasLabels, Is.True);
            Assert.That(train.PixelCount, Is.EqualTo(784));
            Assert.That(test.Count, Is.EqualTo(28000));
            Assert.That(test.HasLabels, Is.False);
            Assert.That(train.ClassCounts().Sum(), Is.EqualTo(42000));
            Assert.That(train.ClassCounts(), Has.All.GreaterThan(3500));
        });
    }

    [Test]
    public void KaggleFolderLoadsAsDataset()
    {
        string? folder = TestData.KaggleFolder;
        if (folder is null) Assert.Ignore("../shared/kaggle is not beside this clone.");
        var dataset = DatasetLoader.Load(folder);
        Assert.Multiple(() =>
        {
            Assert.That(dataset.Format, Is.EqualTo("kaggle-csv"));
            Assert.That(dataset.Train.Count, Is.EqualTo(42000));
            Assert.That(dataset.Test!.HasLabels, Is.False);
        });
    }
}
