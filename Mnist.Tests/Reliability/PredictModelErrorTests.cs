using System.Buffers.Binary;
using Mnist.Core.Training;
using Mnist.Runner;
using Mnist.Tests.Runner;

namespace Mnist.Tests.Reliability;

/// <summary>
/// <c>mnist predict</c> with a truncated, corrupted, foreign, newer-version or unknown-trainer model file:
/// one clear "error:" line naming the file, exit code 2, no stack trace, no predictions file.
/// </summary>
[TestFixture]
public sealed class PredictModelErrorTests : SharedTempFolderFixture
{
    private byte[] _model = [];

    [OneTimeSetUp]
    public void TrainAModel()
    {
        File.WriteAllBytes(Path.Combine(Folder, "test.csv"), HostileInput.Csv(10, 28, labelled: true));
        var trainer = Catalogs.Default().Create("logreg", new Dictionary<string, string> { ["max-iterations"] = "3" });
        string path = Path.Combine(Folder, "good.model");
        ModelFile.Save(trainer.Fit(TestData.Mnist.Train.Take(200).Materialize()), path);
        _model = File.ReadAllBytes(path);
    }

    private static byte[] Version(byte[] bytes, int version)
    {
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(8), version);
        return copy;
    }

    private static IEnumerable<TestCaseData> BadModels()
    {
        yield return new TestCaseData("truncated-header", (Func<byte[], byte[]>)(m => m[..20]), "truncated").SetArgDisplayNames("truncated header");
        yield return new TestCaseData("truncated-payload", (Func<byte[], byte[]>)(m => m[..(m.Length - 100)]), "declared payload").SetArgDisplayNames("truncated payload");
        yield return new TestCaseData("corrupted", (Func<byte[], byte[]>)(m => HostileInput.FlipBit(m, m.Length - 50, 3)), "checksum mismatch").SetArgDisplayNames("corrupted");
        yield return new TestCaseData("foreign", (Func<byte[], byte[]>)(_ => HostileInput.IdxImages(2, 28, 28)), "not a MnistExperiments model file").SetArgDisplayNames("foreign");
        yield return new TestCaseData("newer", (Func<byte[], byte[]>)(m => Version(m, ModelFile.FormatVersion + 1)), $"model format version {ModelFile.FormatVersion + 1} is newer than this build supports").SetArgDisplayNames("newer version");
        yield return new TestCaseData("empty", (Func<byte[], byte[]>)(_ => []), "bad magic").SetArgDisplayNames("empty");
    }

    [TestCaseSource(nameof(BadModels))]
    public void BadModelFileIsOneErrorLineAndExitCode2(string name, Func<byte[], byte[]> damage, string message)
    {
        string model = Path.Combine(Folder, name + ".model");
        File.WriteAllBytes(model, damage(_model));
        string output = Path.Combine(Folder, name + ".csv");
        var outcome = RunnerHarness.Run(Catalogs.Default(), Folder, "predict", "--model", model, "--input", "test.csv", "--out", output);
        Assert.That(outcome.ExitCode, Is.EqualTo(2), outcome.Error);
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1), outcome.Error);
        Assert.That(outcome.ErrorLines[0], Does.StartWith("error: " + model).And.Contain(message));
        Assert.That(outcome.Error, Does.Not.Contain("   at ").And.Not.Contain("Exception"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void ModelOfAnUnknownTrainerAndAGoodModel()
    {
        var (header, payload) = ChecksummedFile.Read(Path.Combine(Folder, "good.model"), "MNISTMDL"u8, ModelFile.FormatVersion, "model");
        string unknown = Path.Combine(Folder, "unknown.model");
        ChecksummedFile.Write(unknown, "MNISTMDL"u8, ModelFile.FormatVersion, "knn-9000", header.Metadata, payload);
        var outcome = RunnerHarness.Run(Catalogs.Default(), Folder, "predict", "--model", unknown, "--input", "test.csv", "--out", "u.csv");
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines.Single(), Does.Contain("trainer 'knn-9000', which this build does not know"));

        var good = RunnerHarness.Run(Catalogs.Default(), Folder, "predict", "--model", "good.model", "--input", "test.csv", "--out", "g.csv");
        Assert.That(good.ExitCode, Is.Zero, good.Error);
    }

    [TestCase("mlnet-lightgbm", "iterations=5")]
    [TestCase("mlnet-maxent", "max-iterations=5")]
    public void MangledMlNetPayloadUnderAValidChecksumIsOneErrorLine(string trainerName, string setting)
    {
        var parts = setting.Split('=');
        var trainer = Catalogs.Default().Create(trainerName, new Dictionary<string, string> { [parts[0]] = parts[1] });
        string good = Path.Combine(Folder, trainerName + ".model");
        ModelFile.Save(trainer.Fit(TestData.Mnist.Train.Take(300).Materialize()), good);
        var (header, payload) = ChecksummedFile.Read(good, "MNISTMDL"u8, ModelFile.FormatVersion, "model");
        // Damage the middle of ML.NET's zip, then re-frame it so the checksum holds: the zip's own checks must catch it.
        var mangled = (byte[])payload.Clone();
        for (int i = mangled.Length / 2; i < mangled.Length / 2 + 16; i++) mangled[i] ^= 0x5A;
        string model = Path.Combine(Folder, trainerName + "-mangled.model");
        ChecksummedFile.Write(model, "MNISTMDL"u8, ModelFile.FormatVersion, header.TrainerName, header.Metadata, mangled);
        string output = Path.Combine(Folder, trainerName + "-mangled.csv");
        var outcome = RunnerHarness.Run(Catalogs.Default(), Folder, "predict", "--model", model, "--input", "test.csv", "--out", output);
        Assert.That(outcome.ExitCode, Is.EqualTo(2), outcome.Error);
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1), outcome.Error);
        Assert.That(outcome.ErrorLines[0], Does.StartWith("error: " + model + ", payload: "));
        Assert.That(File.Exists(output), Is.False);

        var intact = RunnerHarness.Run(Catalogs.Default(), Folder, "predict", "--model", good, "--input", "test.csv", "--out", trainerName + ".csv");
        Assert.That(intact.ExitCode, Is.Zero, intact.Error);
    }

    /// <summary>A network payload cut short, or with a tensor length changed, under a valid checksum: the payload reader names the damage.</summary>
    [TestCase("cnn-small")]
    [TestCase("torch-cnn-small")]
    public void MangledNetworkPayloadUnderAValidChecksumIsOneErrorLine(string trainerName)
    {
        var trainer = Catalogs.Default().Create(trainerName, new Dictionary<string, string> { ["epochs"] = "1", ["batch-size"] = "50" });
        string good = Path.Combine(Folder, trainerName + ".model");
        ModelFile.Save(trainer.Fit(TestData.Mnist.Train.Take(100).Materialize()), good);
        var (header, payload) = ChecksummedFile.Read(good, "MNISTMDL"u8, ModelFile.FormatVersion, "model");
        var longerTensor = (byte[])payload.Clone();
        int lastLength = payload.Length - 10 * sizeof(float) - sizeof(int); // the last tensor: the output layer's 10 biases
        BinaryPrimitives.WriteInt32LittleEndian(longerTensor.AsSpan(lastLength), 11);
        var nanBias = (byte[])payload.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(nanBias.AsSpan(payload.Length - sizeof(float)), float.NaN);
        // The spec's "Dense 128" widened to 65,536 units: 2·10⁸ weights where the payload holds about 10⁵, refused before they are allocated.
        var wideDense = (byte[])payload.Clone();
        byte[] dense128 = [5, .. "Dense"u8, 128, 0, 0, 0];
        int at = payload.AsSpan().IndexOf(dense128);
        Assert.That(at, Is.GreaterThan(0), "the spec's Dense 128");
        BinaryPrimitives.WriteInt32LittleEndian(wideDense.AsSpan(at + 6), 1 << 16);
        foreach (var (what, mangled, message) in new[]
        {
            ("cut", payload[..(payload.Length / 2)], "Dense 128: its weights need 401408 values, more than the"), ("length", longerTensor, "a tensor of 11 values where the architecture needs 10"),
            ("nan", nanBias, "value 9 of a tensor of 10 is non-finite"),
            ("wide", wideDense, "Dense 65536: its weights need 205520896 values, more than the"),
        })
        {
            string model = Path.Combine(Folder, $"{trainerName}-{what}.model");
            ChecksummedFile.Write(model, "MNISTMDL"u8, ModelFile.FormatVersion, header.TrainerName, header.Metadata, mangled);
            string output = Path.Combine(Folder, $"{trainerName}-{what}.csv");
            var outcome = RunnerHarness.Run(Catalogs.Default(), Folder, "predict", "--model", model, "--input", "test.csv", "--out", output);
            Assert.That(outcome.ExitCode, Is.EqualTo(2), outcome.Error);
            Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1), outcome.Error);
            Assert.That(outcome.ErrorLines[0], Does.StartWith("error: " + model + ", payload: ").And.Contain(message));
            Assert.That(File.Exists(output), Is.False);
        }
        var intact = RunnerHarness.Run(Catalogs.Default(), Folder, "predict", "--model", good, "--input", "test.csv", "--out", trainerName + ".csv");
        Assert.That(intact.ExitCode, Is.Zero, intact.Error);
    }

    [Test]
    public void NewerModelFileThroughTheRealProcess()
    {
        string model = Path.Combine(Folder, "newer-process.model");
        File.WriteAllBytes(model, Version(_model, 99));
        var (exitCode, _, error) = MnistProcess.Run(Folder, 60, "predict", "--model", model, "--input", "test.csv", "--out", "never.csv");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(exitCode, Is.EqualTo(2), error);
        Assert.That(lines, Has.Length.EqualTo(1), error);
        Assert.That(lines[0], Is.EqualTo($"error: {model}, header: model format version 99 is newer than this build supports ({ModelFile.FormatVersion})"));
        Assert.That(File.Exists(Path.Combine(Folder, "never.csv")), Is.False);
    }
}
