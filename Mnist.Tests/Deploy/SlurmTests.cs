using System.Diagnostics;
using System.Text.RegularExpressions;
using Mnist.Runner;
using Mnist.Tests.Runner;
using Mnist.Tests.Runner.Merge;

namespace Mnist.Tests.Deploy;

/// <summary>
/// deploy/slurm on a real Slurm: a single-node cluster on localhost (deploy/slurm/local-cluster.sh: munged,
/// slurmctld, slurmd), a sharded logreg grid submitted as an array job with the merge depending on it
/// (deploy/slurm/submit-sweep.sh), and the merged report compared with the unsharded run's. Skipped only
/// where Slurm is not installed (.ci/run installs slurm-wlm and munge) or the tests do not run as root.
/// </summary>
[TestFixture]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class SlurmTests
{
    private static readonly string[] Grid =
        ["grid", "--trainer", "logreg", "--param", "l2=1e-4,1e-3", "--param", "max-iterations=20,40", "--train-limit", "2000", "--test-limit", "1000"];

    private static readonly Dictionary<string, string> NoVariables = [];

    [Test]
    public void ShardedGridAsAnArrayJobMergesIntoTheUnshardedReport()
    {
        foreach (string tool in new[] { "munged", "slurmctld", "slurmd", "sbatch", "scontrol" })
            if (Which(tool) is null) Assert.Ignore($"{tool} not installed (apt-get install -y slurm-wlm munge; .ci/run does it)");
        if (Environment.UserName != "root") Assert.Ignore("a local Slurm cluster needs root (slurmd starts jobs as their user)");

        string repository = RunnerHarness.RepositoryRoot();
        string folder = RunnerHarness.TempFolder("slurm");
        // munged wants every folder above its socket open to others.
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                     | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        string cluster = Path.Combine(folder, "cluster"), sweep = Path.Combine(folder, "sweep"), whole = Path.Combine(folder, "whole");
        string script(string name) => Path.Combine(repository, "deploy", "slurm", name);
        try
        {
            var start = Run("bash", [script("local-cluster.sh"), "start", cluster], NoVariables, 90);
            Assert.That(start.ExitCode, Is.Zero, $"the local cluster did not start:\n{start.Output}\n{start.Error}\n{Logs(cluster)}");

            var variables = new Dictionary<string, string> { ["SLURM_CONF"] = Path.Combine(cluster, "slurm.conf") };
            string mnist = $"{Dotnet()} {Path.Combine(TestContext.CurrentContext.TestDirectory, "mnist.dll")}";
            var submit = Run("bash", [script("submit-sweep.sh"), "--shards", "2", "--out", sweep, "--mnist", mnist, "--",
                .. Grid, "--data", RunnerHarness.RealDataFolder()], variables, 60);
            Assert.That(submit.ExitCode, Is.Zero, submit.Output + submit.Error);
            var ids = JobIds().Match(submit.Output.TrimEnd().Split('\n')[^1]);
            Assert.That(ids.Success, Is.True, $"no job ids on the last line of:\n{submit.Output}");
            string array = ids.Groups[1].Value, merge = ids.Groups[2].Value;

            Assert.That(Dependency(merge, variables), Does.Contain($"afterok:{array}"), "the merge waits for the whole array");
            string state = WaitForEnd(merge, variables, 240);
            Assert.That(state, Is.EqualTo("COMPLETED"), $"merge job {merge} ended {state}:\n{Logs(sweep)}\n{Logs(cluster)}");
            foreach (int task in new[] { 0, 1 })
                Assert.That(JobState($"{array}_{task}", variables), Is.EqualTo("COMPLETED"), $"array task {task}:\n{Logs(sweep)}");
            Assert.That(Directory.GetDirectories(sweep).Select(Path.GetFileName).Order(StringComparer.Ordinal),
                Is.EqualTo(new[] { "logs", "merged", "shard-0-of-2", "shard-1-of-2" }));

            // The same grid unsharded, with the thread count the script gave each task.
            var outcome = RunnerHarness.Run(Catalogs.Default(), folder, [.. Grid, "--data", RunnerHarness.RealDataFolder(), "--threads", "1", "--out", whole]);
            Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
            SameReport.Assert(whole, Path.Combine(sweep, "merged"));
        }
        finally
        {
            var stop = Run("bash", [script("local-cluster.sh"), "stop", cluster], NoVariables, 60);
            RunnerHarness.DeleteQuietly(folder);
            Assert.That(stop.ExitCode, Is.Zero, $"stopping the local cluster failed:\n{stop.Output}\n{stop.Error}");
        }
    }

    /// <summary>Polls the job until it leaves the queue's waiting and running states; a dependency that can never be met counts as its end.</summary>
    private static string WaitForEnd(string job, IReadOnlyDictionary<string, string> variables, int timeoutSeconds)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < timeoutSeconds)
        {
            var (state, reason) = (JobState(job, variables), Field(job, "Reason", variables));
            if (state is not ("PENDING" or "RUNNING" or "CONFIGURING" or "COMPLETING" or "")) return state;
            if (reason == "DependencyNeverSatisfied") return "PENDING (DependencyNeverSatisfied)";
            Thread.Sleep(500);
        }
        return $"not finished within {timeoutSeconds} s";
    }

    private static string JobState(string job, IReadOnlyDictionary<string, string> variables) => Field(job, "JobState", variables);

    private static string Dependency(string job, IReadOnlyDictionary<string, string> variables) => Field(job, "Dependency", variables);

    /// <summary>One field of <c>scontrol show job -o JOB</c> ("" when the job is unknown).</summary>
    private static string Field(string job, string name, IReadOnlyDictionary<string, string> variables)
    {
        var shown = Run("scontrol", ["show", "job", "-o", job], variables, 20);
        var match = Regex.Match(shown.Output, $@"(?:^| ){name}=(\S*)");
        return match.Success ? match.Groups[1].Value : "";
    }

    private static string Logs(string folder)
    {
        string logs = Path.Combine(folder, Directory.Exists(Path.Combine(folder, "logs")) ? "logs" : "log");
        return !Directory.Exists(logs) ? "" : string.Join("\n", Directory.GetFiles(logs).Order(StringComparer.Ordinal)
            .Select(f => $"--- {Path.GetFileName(f)}\n{string.Join("\n", File.ReadLines(f).TakeLast(15))}"));
    }

    private static string Dotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : Which("dotnet") ?? "dotnet";

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);

    /// <summary>Runs a program to its end, at most <paramref name="timeoutSeconds"/> (then kills it and its children).</summary>
    private static (int ExitCode, string Output, string Error) Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> variables, int timeoutSeconds)
    {
        var start = new ProcessStartInfo(Which(program) ?? program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in variables) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            return (-1, output.Result, $"{program} did not finish within {timeoutSeconds} s\n{error.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    [GeneratedRegex(@"^(\d+) (\d+)$")]
    private static partial Regex JobIds();
}
