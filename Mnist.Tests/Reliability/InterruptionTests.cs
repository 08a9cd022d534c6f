using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mnist.Tests.Runner;

namespace Mnist.Tests.Reliability;

/// <summary>
/// Real signals to a real <c>mnist compare</c> process: SIGINT after the mlp's second epoch stops it within
/// seconds with exit 130, a report marked interrupted, the finished trainer's results and the mlp's checkpoint;
/// <c>--resume DIR</c> then ends with the same figures as an uninterrupted run. SIGTERM does the same.
/// </summary>
/// <remarks>
/// The engine trains the mlp on 3000 images in a few tens of milliseconds per epoch, too fast to signal
/// reliably between epochs, so the run uses 20000 training images (a few hundred ms per epoch, one thread).
/// </remarks>
[TestFixture]
[NonParallelizable]
public sealed class InterruptionTests : TempFolderFixture
{
    private static string[] Settings(string output) =>
    [
        "compare", "--data", RunnerHarness.RealDataFolder(), "--trainers", "logreg,mlp", "--train-limit", "20000", "--test-limit", "2000",
        "--threads", "1", "--param", "mlp.epochs=12", "--param", "logreg.max-iterations=15", "--out", output,
    ];

    [Test]
    public void SigintStopsCompareKeepsACheckpointAndResumeMatchesAnUninterruptedRun()
    {
        string interrupted = Path.Combine(Folder, "interrupted");
        int maxThreads;
        using (var process = MnistProcess.Start(Folder, Settings(interrupted)))
        {
            process.WaitForOutput("[mlp]", 60);
            maxThreads = process.ThreadCount() ?? 0;
            process.WaitForOutput("epoch 2/12 done", 60);
            maxThreads = Math.Max(maxThreads, process.ThreadCount() ?? 0);
            var clock = Stopwatch.StartNew();
            process.Signal(MnistProcess.SIGINT);
            int exitCode = process.WaitForExit(20);
            TestContext.Out.WriteLine($"stopped {clock.Elapsed.TotalSeconds:0.00} s after SIGINT; {maxThreads} threads at most with --threads 1");
            Assert.That(exitCode, Is.EqualTo(130), process.Output + process.Error);
            Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(5));
            AssertInterrupted(interrupted, process.Error, finished: ["logreg"]);
            Assert.That(process.Output, Does.Not.Contain("epoch 12/12 done"));
        }
        // The runtime has its own threads (GC, finalizer, tiered JIT, signal handling); --threads 1 adds no compute workers.
        Assert.That(maxThreads, Is.LessThan(40));

        var resumed = MnistProcess.Run(Folder, 60, "compare", "--resume", interrupted);
        Assert.That(resumed.ExitCode, Is.Zero, resumed.Output + resumed.Error);
        Assert.That(resumed.Output, Does.Contain("logreg finished, mlp from its checkpoint"));
        Assert.That(resumed.Output, Does.Contain("resumed after epoch").And.Not.Contain("[logreg] started"), "logreg is not retrained");
        Assert.That(Directory.Exists(Path.Combine(interrupted, "checkpoints")) || Directory.Exists(Path.Combine(interrupted, "partial")), Is.False,
            "checkpoints and partial results are removed once the report is complete");

        string reference = Path.Combine(Folder, "reference");
        var uninterrupted = MnistProcess.Run(Folder, 60, Settings(reference));
        Assert.That(uninterrupted.ExitCode, Is.Zero, uninterrupted.Error);

        var a = JsonNode.Parse(File.ReadAllText(Path.Combine(interrupted, "results.json")))!;
        var b = JsonNode.Parse(File.ReadAllText(Path.Combine(reference, "results.json")))!;
        Assert.That(a["interrupted"]!.GetValue<bool>(), Is.False);
        Assert.That(Figures(a), Is.EqualTo(Figures(b)), "models (accuracies, confusion matrices, per-class figures, histories) without timings");
        foreach (string key in new[] { "seed", "threads", "trainCount", "validationCount", "testCount" })
            Assert.That(a[key]!.ToJsonString(), Is.EqualTo(b[key]!.ToJsonString()), key);
        Assert.That(File.ReadAllText(Path.Combine(interrupted, "report.md")), Does.Not.Contain("INTERRUPTED"));
    }

    [Test]
    public void SigtermAlsoStopsWithAnInterruptedReportAndACheckpoint()
    {
        string output = Path.Combine(Folder, "run");
        using var process = MnistProcess.Start(Folder, Settings(output));
        process.WaitForOutput("epoch 1/12 done", 60);
        var clock = Stopwatch.StartNew();
        process.Signal(MnistProcess.SIGTERM);
        int exitCode = process.WaitForExit(20);
        Assert.That(exitCode, Is.EqualTo(130), process.Output + process.Error);
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(5));
        AssertInterrupted(output, process.Error, finished: ["logreg"]);

        // A resume with a conflicting setting is refused, leaving the run as it was.
        var conflicting = MnistProcess.Run(Folder, 60, "compare", "--resume", output, "--seed", "7");
        Assert.That(conflicting.ExitCode, Is.EqualTo(2));
        Assert.That(conflicting.Error.Trim(), Does.StartWith("error: --resume").And.Contain("--seed 7 conflicts").And.Not.Contain("\n"));
        Assert.That(File.Exists(Path.Combine(output, "checkpoints", "mlp.ckpt")), Is.True);

        // Re-running the original command on the interrupted folder points at --resume.
        var rerun = MnistProcess.Run(Folder, 60, Settings(output));
        Assert.That(rerun.ExitCode, Is.EqualTo(2));
        Assert.That(rerun.Error.Trim(), Does.Contain("is an interrupted run; continue it with --resume " + output));
    }

    [Test]
    public void SigintDuringTrainKeepsACheckpointAndTrainResumeWritesTheSameModel()
    {
        string model = Path.Combine(Folder, "mlp.model");
        string[] train = ["train", "--data", RunnerHarness.RealDataFolder(), "--trainer", "mlp", "--train-limit", "20000", "--test-limit", "1000",
            "--threads", "1", "--param", "epochs=10", "--model-out", model];
        using (var process = MnistProcess.Start(Folder, train))
        {
            process.WaitForOutput("epoch 1/10 done", 60);
            process.Signal(MnistProcess.SIGINT);
            Assert.That(process.WaitForExit(20), Is.EqualTo(130), process.Output + process.Error);
            Assert.That(process.Error.Trim(), Is.EqualTo($"interrupted: checkpoint of mlp kept at {model}.ckpt; run the same command with --resume to continue"));
        }
        Assert.That((File.Exists(model), File.Exists(model + ".ckpt")), Is.EqualTo((false, true)));

        var again = MnistProcess.Run(Folder, 60, train);
        Assert.That(again.ExitCode, Is.EqualTo(2));
        Assert.That(again.Error.Trim(), Does.Contain("checkpoint of an interrupted run; pass --resume"));

        var resumed = MnistProcess.Run(Folder, 60, [.. train, "--resume"]);
        Assert.That(resumed.ExitCode, Is.Zero, resumed.Error);
        Assert.That(resumed.Output, Does.Contain("resumed after epoch"));
        Assert.That((File.Exists(model), File.Exists(model + ".ckpt")), Is.EqualTo((true, false)));

        string reference = Path.Combine(Folder, "reference.model");
        var uninterrupted = MnistProcess.Run(Folder, 60, [.. train[..^1], reference]);
        Assert.That(uninterrupted.ExitCode, Is.Zero, uninterrupted.Error);
        Assert.That(File.ReadAllBytes(model), Is.EqualTo(File.ReadAllBytes(reference)), "the resumed model file is byte-identical");
    }

    private static void AssertInterrupted(string folder, string error, string[] finished)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines, Has.Length.EqualTo(1), error);
        Assert.That(lines[0], Does.StartWith($"interrupted: {finished.Length} of 2 trainers finished, checkpoint of mlp kept").And.Contain("--resume " + folder));
        Assert.That(error, Does.Not.Contain("   at "));

        string report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.That(report, Does.Contain("INTERRUPTED").And.Contain("checkpoints/mlp.ckpt"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json")));
        var root = json.RootElement;
        Assert.That(root.GetProperty("interrupted").GetBoolean(), Is.True);
        Assert.That(root.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("trainer").GetString()), Is.EqualTo(finished));
        Assert.That(root.GetProperty("interruption").GetProperty("inProgress").GetString(), Is.EqualTo("mlp"));
        Assert.That(File.Exists(Path.Combine(folder, "checkpoints", "mlp.ckpt")), Is.True);
        Assert.That(File.Exists(Path.Combine(folder, "partial", "logreg.json")), Is.True);
        Assert.That(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories), Is.Empty, "no half-written files");
    }

    /// <summary>results.json's models without fit/predict times, memory peaks and per-epoch timings.</summary>
    internal static string Figures(JsonNode results)
    {
        var models = results["models"]!.DeepClone().AsArray();
        foreach (var model in models)
        {
            var m = model!.AsObject();
            m.Remove("fitSeconds");
            m.Remove("predictSeconds");
            m.Remove("peakWorkingSetBytes");
            if (m["history"] is JsonArray history)
                foreach (var epoch in history)
                {
                    epoch!.AsObject().Remove("seconds");
                    epoch.AsObject().Remove("imagesPerSecond");
                }
        }
        return models.ToJsonString();
    }
}
