using Mnist.Core.Data;

namespace Mnist.Tests.Data;

public class DatasetLoaderTests : TempFolderFixture
{
    [Test]
    public void CommittedChecksumsMatchTheCommittedFiles()
    {
        var files = Directory.GetFiles(TestData.DataFolder, "*.gz");
        Assert.That(files, Has.Length.EqualTo(4));
        Assert.That(() => DatasetLoader.VerifyChecksums(TestData.DataFolder, files), Throws.Nothing);
    }

    [Test]
    public void ChecksumMismatchIsReportedWithTheFile()
    {
        string file = Path.Combine(Folder, "train-labels-idx1-ubyte.gz");
        File.Copy(Path.Combine(TestData.DataFolder, "train-labels-idx1-ubyte.gz"), file);
        File.WriteAllText(Path.Combine(Folder, DatasetLoader.ChecksumFileName), new string('0', 64) + "  train-labels-idx1-ubyte.gz\n");
        Assert.That(() => DatasetLoader.VerifyChecksums(Folder, [file]),
            Throws.TypeOf<DataFormatException>().With.Message.StartWith(file).And.Message.Contain("does not match"));
    }

    [Test]
    public void FolderWithoutDataIsRejected()
    {
        Assert.That(() => DatasetLoader.Load(Folder), Throws.TypeOf<DataFormatException>().With.Message.Contain("no MNIST IDX files"));
        string missing = Path.Combine(Folder, "absent");
        Assert.That(() => DatasetLoader.Load(missing), Throws.TypeOf<DataFormatException>().With.Message.EqualTo($"{missing}: data folder not found"));
    }

    [Test]
    public void ImagesWithoutLabelsFileIsRejected()
    {
        File.Copy(Path.Combine(TestData.DataFolder, "t10k-images-idx3-ubyte.gz"), Path.Combine(Folder, "train-images-idx3-ubyte.gz"));
        Assert.That(() => DatasetLoader.Load(Folder), Throws.TypeOf<DataFormatException>().With.Message.Contain("train-labels-idx1-ubyte[.gz] is missing"));
    }

    [Test]
    public void MnistFolderWithoutTestFilesLoadsTrainOnly()
    {
        File.Copy(Path.Combine(TestData.DataFolder, "t10k-images-idx3-ubyte.gz"), Path.Combine(Folder, "train-images-idx3-ubyte.gz"));
        File.Copy(Path.Combine(TestData.DataFolder, "t10k-labels-idx1-ubyte.gz"), Path.Combine(Folder, "train-labels-idx1-ubyte.gz"));
        var dataset = DatasetLoader.Load(Folder);
        Assert.Multiple(() =>
        {
            Assert.That(dataset.Train.Count, Is.EqualTo(10000));
            Assert.That(dataset.Test, Is.Null);
        });
    }
}
