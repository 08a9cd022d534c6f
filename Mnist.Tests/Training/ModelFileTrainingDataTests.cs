using Mnist.Baselines;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Tests.Training;

/// <summary>Model format 3 records the training data's fingerprint; files of format 2 still load without one.</summary>
public sealed class ModelFileTrainingDataTests : TempFolderFixture
{
    private static TrainerCatalog Catalog() => new TrainerCatalog().AddBaselines();

    private static ITrainedModel Logreg(DigitDataView train) =>
        Catalog().Create("logreg", new Dictionary<string, string> { ["max-iterations"] = "3" }).Fit(train);

    [Test]
    public void TheHeaderRecordsTheTrainingDataFingerprint()
    {
        var train = TestData.Mnist.Train.Take(200);
        var model = Logreg(train);
        string with = Path.Combine(Folder, "with.model"), without = Path.Combine(Folder, "without.model");
        ModelFile.Save(model, with, DataFingerprint.Sha256(train));
        ModelFile.Save(model, without);
        var header = ModelFile.ReadHeader(with);
        Assert.Multiple(() =>
        {
            Assert.That(header.FormatVersion, Is.EqualTo(3));
            Assert.That(header.TrainingDataSha256, Is.EqualTo(DataFingerprint.Sha256(train)).And.Match("^[0-9a-f]{64}$"));
            Assert.That(header.HyperparametersJson, Is.EqualTo(System.Text.Json.JsonSerializer.Serialize(model.Hyperparameters)));
            Assert.That(ModelFile.ReadHeader(without).TrainingDataSha256, Is.Null);
            Assert.That(ModelFile.Load(with, Catalog()).PredictProbabilities(train), Is.EqualTo(model.PredictProbabilities(train)));
        });
    }

    [Test]
    public void AFormatTwoFileStillLoads()
    {
        var train = TestData.Mnist.Train.Take(200);
        var model = Logreg(train);
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload)) model.WritePayload(writer);
        string path = Path.Combine(Folder, "v2.model");
        string hyperparameters = System.Text.Json.JsonSerializer.Serialize(model.Hyperparameters);
        ChecksummedFile.Write(path, "MNISTMDL"u8, 2, model.TrainerName, hyperparameters, payload.ToArray());
        var header = ModelFile.ReadHeader(path);
        Assert.Multiple(() =>
        {
            Assert.That(header.FormatVersion, Is.EqualTo(2));
            Assert.That(header.HyperparametersJson, Is.EqualTo(hyperparameters));
            Assert.That(header.TrainingDataSha256, Is.Null);
            Assert.That(ModelFile.Load(path, Catalog()).PredictProbabilities(train), Is.EqualTo(model.PredictProbabilities(train)));
        });
    }

    [Test]
    public void TheFingerprintFollowsContentNotStorage()
    {
        var images = TestData.Mnist.Train.Take(300);
        string fingerprint = DataFingerprint.Sha256(images);
        var pixels = images.Materialize().ContiguousPixels.ToArray();
        var labels = images.GetLabels();
        var changedPixel = (float[])pixels.Clone();
        changedPixel[12345] += 1f / 255;
        var changedLabel = (byte[])labels.Clone();
        changedLabel[7] = (byte)((changedLabel[7] + 1) % 10);
        Assert.Multiple(() =>
        {
            Assert.That(DataFingerprint.Sha256(TestData.Mnist.Train.Subset(Enumerable.Range(0, 300).ToArray())), Is.EqualTo(fingerprint), "a subset view");
            Assert.That(DataFingerprint.Sha256(new DigitDataView(28, 28, pixels, labels)), Is.EqualTo(fingerprint), "a copy");
            Assert.That(DataFingerprint.Sha256(new DigitDataView(28, 28, changedPixel, labels)), Is.Not.EqualTo(fingerprint), "one pixel");
            Assert.That(DataFingerprint.Sha256(new DigitDataView(28, 28, pixels, changedLabel)), Is.Not.EqualTo(fingerprint), "one label");
            Assert.That(DataFingerprint.Sha256(new DigitDataView(28, 28, pixels)), Is.Not.EqualTo(fingerprint), "no labels");
            Assert.That(DataFingerprint.Sha256(TestData.Mnist.Train.Subset(Enumerable.Range(0, 300).Reverse().ToArray())), Is.Not.EqualTo(fingerprint), "another order");
        });
    }
}
