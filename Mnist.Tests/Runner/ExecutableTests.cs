using System.Diagnostics;

namespace Mnist.Tests.Runner;

/// <summary>Runs the built mnist executable (mnist.dll beside the test assembly) as a real process.</summary>
[TestFixture]
public sealed class ExecutableTests
{
    private static (int ExitCode, string Output, string Error) RunMnist(string workingDirectory, params string[] args)
    {
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "mnist.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} was not built beside the tests");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("mnist did not finish within 60 s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    [Test]
    public void BadDataFileGivesOneLineOnStderrAndExitCode2()
    {
        string folder = RunnerHarness.TempFolder("exe");
        try
        {
            string data = Path.Combine(folder, "data");
            Directory.CreateDirectory(data);
            // A gzip header and then nothing: a truncated download.
            File.WriteAllBytes(Path.Combine(data, "train.csv.gz"), [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01]);
            string output = Path.Combine(folder, "out");

            var (exitCode, _, error) = RunMnist(folder, "compare", "--data", data, "--out", output);

            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.That(exitCode, Is.EqualTo(2), error);
            Assert.That(lines, Has.Length.EqualTo(1), error);
            Assert.That(lines[0], Does.StartWith("error: ").And.Contain("train.csv.gz"));
            Assert.That(error, Does.Not.Contain("   at ").And.Not.Contain("Exception"));
            Assert.That(File.Exists(Path.Combine(output, "results.json")), Is.False);
        }
        finally
        {
            RunnerHarness.DeleteQuietly(folder);
        }
    }

    [Test]
    public void UnknownTrainerGivesOneLineAndExitCode2()
    {
        var (exitCode, _, error) = RunMnist(TestContext.CurrentContext.TestDirectory, "compare", "--trainers", "no-such-trainer");
        Assert.That(exitCode, Is.EqualTo(2), error);
        Assert.That(error.Trim(), Does.StartWith("error: unknown trainer 'no-such-trainer'").And.Not.Contain("\n"));
    }

    [Test]
    public void CorruptedModelFileGivesOneLineOnStderrAndExitCode2()
    {
        string folder = RunnerHarness.TempFolder("exe-model");
        try
        {
            string model = Path.Combine(folder, "broken.model");
            File.WriteAllBytes(model, [.. "MNISTMDL"u8, 1, 0, 0, 0, 200]);
            string input = Path.Combine(folder, "test.csv");
            File.WriteAllText(input, "pixel0,pixel1,pixel2,pixel3\n0,0,0,0\n");

            var (exitCode, _, error) = RunMnist(folder, "predict", "--model", model, "--input", input, "--out", Path.Combine(folder, "p.csv"));

            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.That(exitCode, Is.EqualTo(2), error);
            Assert.That(lines, Has.Length.EqualTo(1), error);
            Assert.That(lines[0], Does.StartWith("error: ").And.Contain("broken.model"));
            Assert.That(error, Does.Not.Contain("   at ").And.Not.Contain("Exception"));
            Assert.That(File.Exists(Path.Combine(folder, "p.csv")), Is.False);
        }
        finally
        {
            RunnerHarness.DeleteQuietly(folder);
        }
    }
}
