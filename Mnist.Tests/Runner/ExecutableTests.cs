using Mnist.Tests.Reliability;

namespace Mnist.Tests.Runner;

/// <summary>Runs the built mnist executable (mnist.dll beside the test assembly) as a real process.</summary>
[TestFixture]
public sealed class ExecutableTests : TempFolderFixture
{
    private static RunOutcome RunMnist(string workingDirectory, params string[] args)
    {
        var (exitCode, output, error) = MnistProcess.Run(workingDirectory, timeoutSeconds: 60, args);
        return new RunOutcome(exitCode, output, error);
    }

    /// <summary>Exit code 2 and a single "error:" line on stderr naming <paramref name="named"/>, without a stack trace.</summary>
    private static void AssertOneErrorLine(RunOutcome outcome, string named)
    {
        outcome.AssertOneErrorLine(named);
        Assert.That(outcome.Error, Does.Not.Contain("   at ").And.Not.Contain("Exception"));
    }

    [Test]
    public void BadDataFileGivesOneLineOnStderrAndExitCode2()
    {
        string data = Path.Combine(Folder, "data");
        Directory.CreateDirectory(data);
        // A gzip header and then nothing: a truncated download.
        File.WriteAllBytes(Path.Combine(data, "train.csv.gz"), [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01]);
        string output = Path.Combine(Folder, "out");

        AssertOneErrorLine(RunMnist(Folder, "compare", "--data", data, "--out", output), "train.csv.gz");
        Assert.That(File.Exists(Path.Combine(output, "results.json")), Is.False);
    }

    [Test]
    public void UnknownTrainerGivesOneLineAndExitCode2()
    {
        var outcome = RunMnist(TestContext.CurrentContext.TestDirectory, "compare", "--trainers", "no-such-trainer");
        outcome.AssertOneErrorLine("unknown trainer 'no-such-trainer'");
    }

    [Test]
    public void CorruptedModelFileGivesOneLineOnStderrAndExitCode2()
    {
        string model = Path.Combine(Folder, "broken.model");
        File.WriteAllBytes(model, [.. "MNISTMDL"u8, 1, 0, 0, 0, 200]);
        string input = Path.Combine(Folder, "test.csv");
        File.WriteAllText(input, "pixel0,pixel1,pixel2,pixel3\n0,0,0,0\n");

        AssertOneErrorLine(RunMnist(Folder, "predict", "--model", model, "--input", input, "--out", Path.Combine(Folder, "p.csv")), "broken.model");
        Assert.That(File.Exists(Path.Combine(Folder, "p.csv")), Is.False);
    }
}
