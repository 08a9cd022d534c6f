using System.Buffers.Binary;
using System.Text;
using Mnist.Core.Data;
using Mnist.Core.Training;
using Mnist.Runner;
using static Mnist.Tests.Reliability.HostileInput;

namespace Mnist.Tests.Reliability;

/// <summary>
/// Every trainer of the runner's default catalog, trained small, then its model file truncated, bit-flipped
/// and (with a recomputed, valid checksum) its payload mangled: loading always ends in
/// <see cref="DataFormatException"/> or a model that predicts, never another exception type.
/// </summary>
[TestFixture]
public sealed class HostileModelFileTests : SharedTempFolderFixture
{
    /// <summary>Hyperparameters that make a trainer quick, applied when the trainer has them.</summary>
    private static readonly Dictionary<string, string> Quick = new()
    {
        ["epochs"] = "1", ["batch-size"] = "50", ["max-iterations"] = "5", ["max-epochs"] = "2", ["rounds"] = "3", ["max-leaves"] = "4",
        // The ensemble nests a baseline's and a network's payloads.
        ["members"] = "logreg(max-iterations=5),mlp(epochs=1,batch-size=50)",
    };

    private static readonly byte[] ModelMagic = "MNISTMDL"u8.ToArray();
    private readonly Dictionary<string, (string Path, byte[] Bytes, ChecksummedFileHeader Header, byte[] Payload)> _models = [];
    private DigitDataView _probe = null!;

    private static TrainerCatalog Catalog => Catalogs.Default();

    [OneTimeSetUp]
    public void TrainOneSmallModelPerTrainer()
    {
        var train = TestData.Mnist.Train.Take(200).Materialize();
        _probe = TestData.Mnist.Test!.Take(5).Materialize();
        foreach (var registration in Catalog.Registrations)
        {
            var settings = new Dictionary<string, string>();
            foreach (var (name, value) in Quick)
            {
                var attempt = new Dictionary<string, string>(settings) { [name] = value };
                try
                {
                    Catalog.Create(registration.Name, attempt);
                    settings = attempt;
                }
                catch (ArgumentException) { } // not one of this trainer's hyperparameters
            }
            var model = Catalog.Create(registration.Name, settings).Fit(train);
            string path = Path.Combine(Folder, registration.Name + ".model");
            ModelFile.Save(model, path);
            var (header, payload) = ChecksummedFile.Read(path, ModelMagic, ModelFile.FormatVersion, "model");
            _models[registration.Name] = (path, File.ReadAllBytes(path), header, payload);
        }
    }

    private static IEnumerable<string> TrainerNames() => Catalog.Names;

    [Test]
    public void CatalogHasTrainersToFuzz() => Assert.That(Catalog.Registrations, Has.Count.GreaterThanOrEqualTo(5));

    [TestCaseSource(nameof(TrainerNames))]
    public void IntactModelFileLoadsAndPredicts(string trainer)
    {
        var loaded = ModelFile.Load(_models[trainer].Path, Catalog);
        Assert.That(loaded.TrainerName, Is.EqualTo(trainer));
        Assert.That(loaded.PredictProbabilities(_probe), Has.Length.EqualTo(50));
    }

    [TestCaseSource(nameof(TrainerNames))]
    public void TruncatedOrBitFlippedModelFilesAreRejected(string trainer)
    {
        var (_, bytes, _, _) = _models[trainer];
        var random = new Random(trainer.Length * 7919);
        string path = Path.Combine(Folder, $"{trainer}-mutated.model");
        var lengths = Enumerable.Range(0, 30).Select(_ => random.Next(Math.Min(bytes.Length, 200)))
            .Concat(Enumerable.Range(0, 10).Select(_ => random.Next(bytes.Length))).Append(0).Append(bytes.Length - 1);
        foreach (int length in lengths.Where(l => l < bytes.Length))
        {
            File.WriteAllBytes(path, bytes[..length]);
            Assert.That(LoadsOrRejects(() => ModelFile.Load(path, Catalog), path, $"{trainer} cut at {length}"), Is.False, $"{trainer} cut at {length} loaded");
        }
        // Every byte of the magic, version and name lengths, random bits of the rest of the header, then
        // random bits of the payload (the checksum catches those).
        var flips = Enumerable.Range(0, 14 * 8).Select(i => (i / 8, i % 8))
            .Concat(Enumerable.Range(0, 60).Select(_ => (random.Next(Math.Min(bytes.Length, 400)), random.Next(8))))
            .Concat(Enumerable.Range(0, 20).Select(_ => (random.Next(bytes.Length), random.Next(8))));
        foreach (var (position, bit) in flips)
        {
            File.WriteAllBytes(path, FlipBit(bytes, position, bit));
            if (LoadsOrRejects(() => ModelFile.Load(path, Catalog), path, $"{trainer} bit {bit} of byte {position}"))
                Assert.Fail($"{trainer}: bit {bit} of byte {position} flipped and the model still loaded");
        }
        File.WriteAllBytes(path, [.. bytes, 0]);
        Assert.That(LoadsOrRejects(() => ModelFile.Load(path, Catalog), path, "trailing byte"), Is.False);
    }

    [TestCaseSource(nameof(TrainerNames))]
    public void MangledPayloadsWithValidChecksumsNeverLeakAnotherException(string trainer)
    {
        // The checksum is recomputed, so the trainer's own payload reader meets the damage.
        var (_, _, header, payload) = _models[trainer];
        var random = new Random(trainer.Length * 104729);
        string path = Path.Combine(Folder, $"{trainer}-payload.model");
        var variants = new List<(string What, byte[] Payload)>();
        foreach (int length in Enumerable.Range(0, 40).Concat(Enumerable.Range(0, 20).Select(_ => random.Next(payload.Length))))
            if (length < payload.Length) variants.Add(($"payload cut at {length}", payload[..length]));
        for (int i = 0; i < 80; i++)
        {
            int position = i < 60 ? random.Next(Math.Min(payload.Length, 400)) : random.Next(payload.Length);
            variants.Add(($"payload bit flip {i} at {position}", FlipBit(payload, position, random.Next(8))));
        }
        // Extreme 32-bit values written over each aligned and unaligned int in the first 200 bytes (lengths, counts, shapes).
        foreach (int extreme in new[] { -1, int.MaxValue, 65536 })
            for (int position = 0; position + 4 <= Math.Min(payload.Length, 160); position += (position < 48 ? 1 : 4))
            {
                var copy = (byte[])payload.Clone();
                BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(position), extreme);
                variants.Add(($"int {extreme} at {position}", copy));
            }
        variants.Add(("payload + 1 byte", [.. payload, 0]));
        variants.Add(("empty payload", []));

        long worst = 0;
        string worstWhat = "";
        foreach (var (what, bytes) in variants)
        {
            ChecksummedFile.Write(path, ModelMagic, ModelFile.FormatVersion, header.TrainerName, header.Metadata, bytes);
            ITrainedModel? model = null;
            long allocated = Allocated(() => LoadsOrRejects(() => model = ModelFile.Load(path, Catalog), path, $"{trainer}: {what}"));
            if (allocated > worst) (worst, worstWhat) = (allocated, what);
            if (model is null) continue;
            try
            {
                Assert.That(model.PredictProbabilities(_probe), Has.Length.EqualTo(50), what);
            }
            catch (ArgumentException)
            {
                // A model of another image size: 'mnist predict' reports that as bad input (exit 2).
            }
        }
        TestContext.Out.WriteLine($"{trainer}: {variants.Count} mangled payloads; most allocated by one load: {worst / 1e6:0.0} MB ({worstWhat})");
        // Loaders bound every count they read, but a network's shape (units, filters) is rebuilt before its
        // weights are read: a mangled shape can cost a few hundred MB, never gigabytes.
        Assert.That(worst, Is.LessThan(512L << 20));
    }

    [Test]
    public void ForeignNewerAndUnknownFilesAreRejectedWithClearMessages()
    {
        var (_, bytes, header, payload) = _models["logreg"];
        string path = Path.Combine(Folder, "odd.model");
        var cases = new (string What, byte[] Bytes, string Message)[]
        {
            ("an IDX file", IdxImages(2, 2, 2), "bad magic"),
            ("a CSV", Encoding.ASCII.GetBytes("label,p0\n1,0\n"), "bad magic"),
            ("a PNG", [0x89, .. "PNG\r\n\u001a\n"u8, .. new byte[40]], "bad magic"),
            ("empty", [], "bad magic"),
            ("a checkpoint", [.. "MNISTCKP"u8, .. bytes[8..]], "bad magic"),
            ("a newer version", WithVersion(bytes, ModelFile.FormatVersion + 1), $"model format version {ModelFile.FormatVersion + 1} is newer than this build supports ({ModelFile.FormatVersion})"),
            ("version 0", WithVersion(bytes, 0), "invalid model format version 0"),
            ("magic only", [.. "MNISTMDL"u8], "truncated"),
        };
        foreach (var (what, content, message) in cases)
        {
            File.WriteAllBytes(path, content);
            Assert.That(() => ModelFile.Load(path, Catalog), Throws.TypeOf<DataFormatException>().With.Message.Contain(message), what);
        }
        ChecksummedFile.Write(path, ModelMagic, ModelFile.FormatVersion, "no-such-trainer", header.Metadata, payload);
        Assert.That(() => ModelFile.Load(path, Catalog), Throws.TypeOf<DataFormatException>().With.Message.Contain("trainer 'no-such-trainer', which this build does not know"));
    }

    [Test]
    public void FormatOneModelFilesWithAPayloadOnlyChecksumStillLoad()
    {
        var (_, _, header, payload) = _models["mlp"];
        string path = Path.Combine(Folder, "v1.model");
        using (var writer = new BinaryWriter(File.Create(path), Encoding.UTF8))
        {
            writer.Write(ModelMagic);
            writer.Write(1);
            writer.Write(header.TrainerName);
            writer.Write(header.Metadata);
            writer.Write((long)payload.Length);
            writer.Write(System.Security.Cryptography.SHA256.HashData(payload));
            writer.Write(payload);
        }
        Assert.That(ModelFile.ReadHeader(path).FormatVersion, Is.EqualTo(1));
        Assert.That(ModelFile.Load(path, Catalog).PredictProbabilities(_probe), Has.Length.EqualTo(50));
        File.WriteAllBytes(path, FlipBit(File.ReadAllBytes(path), File.ReadAllBytes(path).Length - 3, 0));
        Assert.That(() => ModelFile.Load(path, Catalog), Throws.TypeOf<DataFormatException>().With.Message.Contain("payload checksum mismatch"));
    }

    internal static byte[] WithVersion(byte[] bytes, int version)
    {
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(8), version);
        return copy;
    }
}
