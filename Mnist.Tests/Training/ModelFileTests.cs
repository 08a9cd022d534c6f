using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Tests.Training;

public class ModelFileTests : TempFolderFixture
{
    /// <summary>A minimal real model: fixed per-class log-priors stored as floats.</summary>
    private sealed class PriorModel(float[] priors) : ITrainedModel
    {
        public float[] Priors { get; } = priors;
        public string TrainerName => "prior";
        public IReadOnlyDictionary<string, object> Hyperparameters => new Dictionary<string, object> { ["smoothing"] = 1.0 };

        public void PredictProbabilities(DigitDataView data, Span<float> probabilities)
        {
            for (int i = 0; i < data.Count; i++) Priors.CopyTo(probabilities.Slice(i * 10, 10));
        }

        public void WritePayload(BinaryWriter writer)
        {
            writer.Write(Priors.Length);
            foreach (float p in Priors) writer.Write(p);
        }

        public static ITrainedModel Read(BinaryReader reader)
        {
            int n = reader.ReadInt32();
            if (n != 10) throw new InvalidDataException($"expected 10 priors, found {n}");
            var priors = new float[n];
            for (int i = 0; i < n; i++) priors[i] = reader.ReadSingle();
            return new PriorModel(priors);
        }
    }

    private sealed class PriorTrainer : ITrainer
    {
        public string Name => "prior";
        public IReadOnlyDictionary<string, object> Hyperparameters => new Dictionary<string, object>();

        public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            int[] counts = train.ClassCounts();
            return new PriorModel(counts.Select(c => (c + 1f) / (train.Count + 10f)).ToArray());
        }
    }

    private static TrainerCatalog Catalog() =>
        new TrainerCatalog().Add(TrainerRegistration.For("prior", "class priors", HyperparameterSchema.Empty, _ => new PriorTrainer(), PriorModel.Read));

    private string SavedModel(out ITrainedModel model)
    {
        model = new PriorTrainer().Fit(TestData.Mnist.Test!.Take(500));
        string path = Path.Combine(Folder, "model.bin");
        ModelFile.Save(model, path);
        return path;
    }

    [Test]
    public void SaveThenLoadGivesIdenticalPredictions()
    {
        string path = SavedModel(out var model);
        var loaded = ModelFile.Load(path, Catalog());
        var data = TestData.Mnist.Test!.Take(20);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.PredictProbabilities(data), Is.EqualTo(model.PredictProbabilities(data)));
            Assert.That(ModelFile.ReadHeader(path).TrainerName, Is.EqualTo("prior"));
            Assert.That(ModelFile.ReadHeader(path).HyperparametersJson, Is.EqualTo("{\"smoothing\":1}"));
            Assert.That(Directory.GetFiles(Folder), Has.Length.EqualTo(1), "no temporary file is left behind");
        });
    }

    [Test]
    public void EveryTruncationIsADataFormatError()
    {
        string path = SavedModel(out _);
        byte[] bytes = File.ReadAllBytes(path);
        string cut = Path.Combine(Folder, "cut.bin");
        for (int length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(cut, bytes[..length]);
            Assert.That(() => ModelFile.Load(cut, Catalog()), Throws.TypeOf<DataFormatException>(), $"length {length}");
        }
    }

    [Test]
    public void CorruptedPayloadFailsTheChecksum()
    {
        string path = SavedModel(out _);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        Assert.That(() => ModelFile.Load(path, Catalog()), Throws.TypeOf<DataFormatException>().With.Message.Contain("checksum mismatch"));
    }

    [Test]
    public void ForeignNewerAndUnknownTrainerFilesAreRejected()
    {
        string path = SavedModel(out _);
        byte[] bytes = File.ReadAllBytes(path);
        string foreign = Path.Combine(Folder, "foreign.bin");
        File.WriteAllBytes(foreign, "PK\x03\x04 not a model"u8.ToArray());
        byte[] newer = (byte[])bytes.Clone();
        newer[8] = 99;
        string newerPath = Path.Combine(Folder, "newer.bin");
        File.WriteAllBytes(newerPath, newer);
        Assert.Multiple(() =>
        {
            Assert.That(() => ModelFile.Load(foreign, Catalog()), Throws.TypeOf<DataFormatException>().With.Message.Contain("bad magic"));
            Assert.That(() => ModelFile.Load(newerPath, Catalog()), Throws.TypeOf<DataFormatException>().With.Message.Contain("version 99 is newer"));
            Assert.That(() => ModelFile.Load(path, new TrainerCatalog()), Throws.TypeOf<DataFormatException>().With.Message.Contain("trainer 'prior', which this build does not know"));
        });
    }
}
