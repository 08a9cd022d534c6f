using Mnist.Core.Training;
using Mnist.Tests.Onnx;

namespace Mnist.Tests.Runner;

/// <summary><c>mnist export</c>: a trained model file becomes an ONNX file; every bad input is one line, exit 2, no file.</summary>
[TestFixture]
public sealed class ExportCommandTests : SharedTempFolderFixture
{
    private string _model = null!;

    [OneTimeSetUp]
    public void Train()
    {
        _model = Path.Combine(Folder, "logreg.model");
        var trained = Run("train", "--trainer", "logreg", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "1000", "--test-limit", "100",
            "--param", "max-iterations=10", "--model-out", _model);
        Assert.That(trained.ExitCode, Is.Zero, trained.Error);
    }

    private RunOutcome Run(params string[] args) => RunnerHarness.Run(TestCatalogs.WithReal(), Folder, args);

    /// <summary>Files in the folder besides the model: an export that fails must leave none (no temporaries either).</summary>
    private string[] OtherFiles(string folder) => Directory.GetFiles(folder).Where(f => f != _model).Order().ToArray();

    [Test]
    public void ExportsAModelThatOnnxRuntimeRunsWithTheModelFilesTrainingDataHash()
    {
        string onnx = Path.Combine(Folder, "out", "logreg.onnx");
        var outcome = Run("export", "--model", _model, "--onnx", onnx);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Contain($"Exported the logreg model {_model} to {onnx}"));

        string? hash = ModelFile.ReadHeader(_model).TrainingDataSha256;
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx);
        Assert.That(hash, Does.Match("^[0-9a-f]{64}$"));
        Assert.That(session.ModelMetadata.CustomMetadataMap["training_data_sha256"], Is.EqualTo(hash));

        var model = ModelFile.Load(_model, TestCatalogs.WithReal());
        var data = TestData.Mnist.Test!.Take(500);
        Assert.That(OnnxScoring.Run(File.ReadAllBytes(onnx), data).Labels.Select(l => (int)l), Is.EqualTo(model.Predict(data)));
    }

    [Test]
    public void AnExistingOutputNeedsForce()
    {
        string folder = Path.Combine(Folder, "existing");
        Directory.CreateDirectory(folder);
        string onnx = Path.Combine(folder, "model.onnx");
        File.WriteAllText(onnx, "keep me");
        var refused = Run("export", "--model", _model, "--onnx", onnx);
        Assert.Multiple(() =>
        {
            Assert.That(refused.ExitCode, Is.EqualTo(2));
            Assert.That(refused.ErrorLines, Is.EqualTo(new[] { $"error: {onnx} already exists; choose another --onnx or pass --force to overwrite it" }));
            Assert.That(File.ReadAllText(onnx), Is.EqualTo("keep me"));
        });
        var forced = Run("export", "--model", _model, "--onnx", onnx, "--force");
        Assert.That(forced.ExitCode, Is.Zero, forced.Error);
        Assert.That(new FileInfo(onnx).Length, Is.GreaterThan(784 * 10 * 4));
    }

    private static IEnumerable<TestCaseData> BadModels()
    {
        yield return new TestCaseData("foreign", (Func<byte[], byte[]>)(_ => "ImageId,Label\n1,7\n"u8.ToArray()), "not a MnistExperiments model file (bad magic)").SetArgDisplayNames("foreign file");
        yield return new TestCaseData("truncated", (Func<byte[], byte[]>)(m => m[..(m.Length / 2)]), "").SetArgDisplayNames("truncated");
        yield return new TestCaseData("flipped", (Func<byte[], byte[]>)(m => { var c = (byte[])m.Clone(); c[^5] ^= 0x40; return c; }), "checksum mismatch").SetArgDisplayNames("bit flip");
    }

    [TestCaseSource(nameof(BadModels))]
    public void ACorruptOrForeignModelIsOneLineAndNoOutput(string name, Func<byte[], byte[]> mangle, string expected)
    {
        string folder = Path.Combine(Folder, "bad-" + name);
        Directory.CreateDirectory(folder);
        string model = Path.Combine(folder, "bad.model");
        File.WriteAllBytes(model, mangle(File.ReadAllBytes(_model)));
        var outcome = Run("export", "--model", model, "--onnx", Path.Combine(folder, "bad.onnx"));
        Assert.Multiple(() =>
        {
            Assert.That(outcome.ExitCode, Is.EqualTo(2));
            Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1));
            Assert.That(outcome.ErrorLines[0], Does.StartWith($"error: {model}").And.Contain(expected));
            Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { model }));
        });
    }

    [Test]
    public void AnUnwritablePathIsOneLineAndNoOutput()
    {
        string folder = Path.Combine(Folder, "unwritable");
        Directory.CreateDirectory(folder);
        string blocker = Path.Combine(folder, "not-a-folder");
        File.WriteAllText(blocker, "");
        var outcome = Run("export", "--model", _model, "--onnx", Path.Combine(blocker, "model.onnx"));
        Assert.Multiple(() =>
        {
            outcome.AssertOneErrorLine();
            Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { blocker }));
        });
    }

    [Test]
    public void AModelWithoutAGraphIsNotExportable()
    {
        string folder = Path.Combine(Folder, "centroid");
        string model = Path.Combine(folder, "centroid.model");
        var trained = Run("train", "--trainer", "centroid", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "300", "--test-limit", "50", "--model-out", model);
        Assert.That(trained.ExitCode, Is.Zero, trained.Error);
        string onnx = Path.Combine(folder, "centroid.onnx");
        var outcome = Run("export", "--model", model, "--onnx", onnx);
        Assert.Multiple(() =>
        {
            Assert.That(outcome.ExitCode, Is.EqualTo(2));
            Assert.That(outcome.ErrorLines, Is.EqualTo(new[] { $"error: {model}: the centroid model is not exportable to ONNX: trainer 'centroid' has no ONNX graph in this build" }));
            Assert.That(File.Exists(onnx), Is.False);
        });
    }

    [Test]
    public void MissingOptionsAreUsageErrors()
    {
        var outcome = Run("export", "--model", _model);
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines, Is.EqualTo(new[] { "error: --onnx FILE is required (on the command line or in the --config file)" }));
    }
}
