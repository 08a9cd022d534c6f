using System.Text.Json;
using System.Text.RegularExpressions;
using Mnist.Runner;
using Mnist.Runner.Merge;

namespace Mnist.Tests.Runner.Merge;

/// <summary>
/// <c>grid</c> and <c>cv</c> with <c>--shard K/N</c> (or a scheduler's index) and <c>mnist merge</c>, in-process
/// on a small subset of the real MNIST files with the nearest-centroid test trainer.
/// </summary>
[TestFixture]
public sealed class ShardAndMergeTests : SharedTempFolderFixture
{
    private static readonly string[] KFoldGrid =
        ["grid", "--trainer", "centroid", "--param", "max-per-class=2,10,40", "--param", "temperature=2,8", "--folds", "3", "--train-limit", "600", "--test-limit", "200"];

    private static readonly string[] CrossValidation = ["cv", "--trainers", "centroid,centroid-raw", "--folds", "3", "--train-limit", "500", "--seed", "9"];

    private string Fresh(string name) => Path.Combine(Folder, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    private RunOutcome Run(params string[] args) => Run(new Dictionary<string, string>(), args);

    private RunOutcome Run(IReadOnlyDictionary<string, string> variables, params string[] args) =>
        RunnerHarness.Run(TestCatalogs.Centroids(), Folder, CancellationToken.None, variables, [.. args, "--data", RunnerHarness.RealDataFolder()]);

    private RunOutcome Merge(params string[] args) => RunnerHarness.Run(TestCatalogs.Centroids(), Folder, ["merge", .. args]);

    private static void Succeeded(RunOutcome outcome)
    {
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Error, Is.Empty);
    }

    [Test]
    public void ShardsOfAKFoldGridMergeIntoTheUnshardedReport()
    {
        string whole = Fresh("whole"), sweep = Fresh("sweep"), merged = Path.Combine(sweep, "merged");
        Succeeded(Run([.. KFoldGrid, "--out", whole]));
        // Three shards, each told its index a different way: the option, a Slurm array task, a Kubernetes Indexed Job.
        Succeeded(Run([.. KFoldGrid, "--shard", "0/3", "--out", sweep]));
        Succeeded(Run(new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "1", ["SLURM_ARRAY_TASK_COUNT"] = "3", ["SLURM_ARRAY_TASK_MIN"] = "0" },
            [.. KFoldGrid, "--out", sweep]));
        Succeeded(Run(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "2" }, [.. KFoldGrid, "--shard-count", "3", "--out", sweep]));

        var shards = Directory.GetDirectories(sweep).Order(StringComparer.Ordinal).ToArray();
        Assert.That(shards.Select(Path.GetFileName), Is.EqualTo(new[] { "shard-0-of-3", "shard-1-of-3", "shard-2-of-3" }));
        var outcome = Merge([.. shards, "--out", merged]);
        Succeeded(outcome);
        Assert.That(outcome.Output, Does.Contain("Merging 3 shards of a grid sweep (18 trials)"));

        SameReport.Assert(whole, merged);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(merged, "results.json")));
        Assert.That(json.RootElement.GetProperty("models").GetArrayLength(), Is.EqualTo(1), "the best combination is refitted and tested");
        Assert.That(json.RootElement.GetProperty("command").GetString(), Does.StartWith("mnist merge "));
        Assert.That(json.RootElement.GetProperty("shard").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public void ShardsOfAHoldoutGridMergeIntoTheUnshardedReport_NoRefitRanksOnly()
    {
        string[] holdout = ["grid", "--trainer", "centroid", "--param", "max-per-class=1,50", "--param", "temperature=2,8", "--train-limit", "800", "--test-limit", "200"];
        string whole = Fresh("whole"), sweep = Fresh("sweep");
        Succeeded(Run([.. holdout, "--out", whole]));
        Succeeded(Run([.. holdout, "--shard", "0/2", "--out", sweep]));
        Succeeded(Run([.. holdout, "--shard", "1/2", "--out", sweep]));
        string merged = Path.Combine(sweep, "merged");
        Succeeded(Merge(Path.Combine(sweep, "shard-1-of-2"), Path.Combine(sweep, "shard-0-of-2"), "--out", merged));
        SameReport.Assert(whole, merged);
        var again = Merge(Path.Combine(sweep, "shard-0-of-2"), Path.Combine(sweep, "shard-1-of-2"), "--out", merged);
        Assert.That(again.ExitCode, Is.EqualTo(2));
        Assert.That(again.ErrorLines.Single(), Does.Contain("already exists").And.Contain("--force"));

        string ranked = Path.Combine(sweep, "ranked");
        var outcome = Merge(Path.Combine(sweep, "shard-0-of-2"), Path.Combine(sweep, "shard-1-of-2"), "--out", ranked, "--no-refit");
        Succeeded(outcome);
        Assert.That(outcome.Output, Does.Contain("not refitted").And.Not.Contain("refit on all"));
        var merged_ = SameReport.Normalized(Path.Combine(merged, "results.json"));
        var rankedOnly = SameReport.Normalized(Path.Combine(ranked, "results.json"));
        Assert.That(rankedOnly["models"]!.AsArray(), Is.Empty);
        Assert.That(rankedOnly["gridSearch"]!.ToJsonString(), Is.EqualTo(merged_["gridSearch"]!.ToJsonString()), "the same ranking without the refit");
        Assert.That(File.ReadAllText(Path.Combine(ranked, "report.md")), Does.Contain("not refitted."));
    }

    [Test]
    public void ShardsOfACrossValidationMergeIntoTheUnshardedReport()
    {
        string whole = Fresh("whole"), sweep = Fresh("sweep"), merged = Fresh("merged");
        Succeeded(Run([.. CrossValidation, "--out", whole]));
        for (int k = 0; k < 4; k++) Succeeded(Run([.. CrossValidation, "--shard", $"{k}/4", "--out", sweep]));
        var outcome = Merge([.. Directory.GetDirectories(sweep), "--out", merged]);
        Succeeded(outcome);
        SameReport.Assert(whole, merged);
    }

    [Test]
    public void EachShardRunsExactlyTheTrialsWhoseIndexModNIsK()
    {
        string sweep = Fresh("sweep");
        var all = new List<int>();
        for (int k = 0; k < 4; k++)
        {
            var outcome = Run([.. KFoldGrid, "--shard", $"{k}/4", "--out", sweep]);
            Succeeded(outcome);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(sweep, $"shard-{k}-of-4", "results.json")));
            var shard = json.RootElement.GetProperty("shard");
            var indices = shard.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("index").GetInt32()).ToList();
            Assert.Multiple(() =>
            {
                Assert.That(shard.GetProperty("index").GetInt32(), Is.EqualTo(k));
                Assert.That(shard.GetProperty("count").GetInt32(), Is.EqualTo(4));
                Assert.That(shard.GetProperty("totalTrials").GetInt32(), Is.EqualTo(18), "6 combinations × 3 folds");
                Assert.That(indices, Is.EqualTo(Enumerable.Range(0, 18).Where(i => i % 4 == k)));
                Assert.That(shard.GetProperty("fingerprint").GetString(), Has.Length.EqualTo(16));
                // Fold-major order: trial i is combination i mod 6 on fold i / 6.
                Assert.That(shard.GetProperty("trials")[0].GetProperty("label").GetString(),
                    Does.EndWith($"fold {indices[0] / 6 + 1}/3"));
                Assert.That(Regex.Matches(outcome.Output, @"\] done in ").Count, Is.EqualTo(indices.Count), "fits only its own trials");
            });
            all.AddRange(indices);
        }
        Assert.That(all.Order(), Is.EqualTo(Enumerable.Range(0, 18)));
    }

    [Test]
    public void RerunningOneShardReplacesOnlyThatShard()
    {
        string sweep = Fresh("sweep");
        Succeeded(Run([.. CrossValidation, "--shard", "0/2", "--out", sweep]));
        Succeeded(Run([.. CrossValidation, "--shard", "1/2", "--out", sweep]));
        string first = Path.Combine(sweep, "shard-0-of-2", "results.json"), second = Path.Combine(sweep, "shard-1-of-2", "results.json");
        string secondBefore = File.ReadAllText(second);
        var secondTime = File.GetLastWriteTimeUtc(second);
        File.SetLastWriteTimeUtc(first, new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        var refused = Run([.. CrossValidation, "--shard", "0/2", "--out", sweep]);
        Assert.That(refused.ExitCode, Is.EqualTo(2));
        Assert.That(refused.ErrorLines.Single(), Does.Contain("shard-0-of-2").And.Contain("--force"));

        Succeeded(Run([.. CrossValidation, "--shard", "0/2", "--out", sweep, "--force"]));
        Assert.That(File.GetLastWriteTimeUtc(first), Is.GreaterThan(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc)), "shard 0 was rewritten");
        Assert.That(File.ReadAllText(second), Is.EqualTo(secondBefore));
        Assert.That(File.GetLastWriteTimeUtc(second), Is.EqualTo(secondTime), "shard 1 was not touched");
        Assert.That(Directory.GetFileSystemEntries(sweep).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "shard-0-of-2", "shard-1-of-2" }));
    }

    [TestCase("--shard 2/2", "--shard '2/2': shard 2 is outside 0..1")]
    [TestCase("--shard -1/2", "must look like K/N")]
    [TestCase("--shard 1", "must look like K/N")]
    [TestCase("--shard a/b", "must look like K/N")]
    [TestCase("--shard 0/0", "N must be at least 1")]
    [TestCase("--shard 0/2 --shard-count 3", "disagrees")]
    [TestCase("--shard-count 2", "JOB_COMPLETION_INDEX, which is not set")]
    [TestCase("--shard-count 0", "--shard-count must be at least 1")]
    public void BadShardOptionsAreOneLineExitTwo(string arguments, string expected)
    {
        string output = Fresh("bad");
        var outcome = Run([.. KFoldGrid, .. arguments.Split(' '), "--out", output]);
        outcome.AssertOneErrorLine(expected);
        Assert.That(Directory.Exists(output), Is.False);
    }

    [TestCase("SLURM_ARRAY_TASK_ID=5,SLURM_ARRAY_TASK_COUNT=2", "SLURM_ARRAY_TASK_ID=5 (minus SLURM_ARRAY_TASK_MIN=0) with SLURM_ARRAY_TASK_COUNT=2: shard 5 is outside 0..1")]
    [TestCase("SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT is not")]
    [TestCase("SLURM_ARRAY_TASK_ID=x,SLURM_ARRAY_TASK_COUNT=2", "SLURM_ARRAY_TASK_ID='x' is not a whole number")]
    [TestCase("JOB_COMPLETION_INDEX=3", "JOB_COMPLETION_INDEX=3 with --shard-count 3: shard 3 is outside 0..2")]
    public void BadSchedulerIndicesAreOneLineExitTwo(string variables, string expected)
    {
        string output = Fresh("bad");
        var environment = variables.Split(',').Select(v => v.Split('=')).ToDictionary(v => v[0], v => v[1]);
        string[] count = environment.ContainsKey("JOB_COMPLETION_INDEX") ? ["--shard-count", "3"] : [];
        var outcome = Run(environment, [.. CrossValidation, .. count, "--out", output]);
        outcome.AssertOneErrorLine(expected);
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void AShardNeedsAnOutFolderSharedByEveryShard()
    {
        var outcome = Run([.. CrossValidation, "--shard", "0/2"]);
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines.Single(), Does.StartWith("error: shard 0/2 needs --out DIR"));
    }

    [Test]
    public void MergeRefusesShardsThatDoNotMakeOneWholeSweep()
    {
        string sweep = Fresh("sweep"), other = Fresh("other"), split3 = Fresh("split3"), whole = Fresh("whole");
        for (int k = 0; k < 3; k++) Succeeded(Run([.. CrossValidation, "--shard", $"{k}/3", "--out", sweep]));
        string[] otherSweep = [.. CrossValidation.Select(a => a == "500" ? "400" : a)];
        Succeeded(Run([.. otherSweep, "--shard", "1/3", "--out", other]));
        Succeeded(Run([.. CrossValidation, "--shard", "1/2", "--out", split3]));
        Succeeded(Run([.. CrossValidation, "--out", whole]));
        string S(int k) => Path.Combine(sweep, $"shard-{k}-of-3");
        string empty = Fresh("empty");
        Directory.CreateDirectory(empty);
        string garbage = Fresh("garbage");
        Directory.CreateDirectory(garbage);
        File.WriteAllText(Path.Combine(garbage, "results.json"), "{ not json");

        var cases = new (string[] Args, string Expected)[]
        {
            ([S(0), Path.Combine(other, "shard-1-of-3"), S(2)], $"{S(0)} and {Path.Combine(other, "shard-1-of-3")} are shards of different sweeps (different --train-limit)"),
            ([S(0), S(1), S(1), S(2)], $"shard 1/3 given 2 times: {S(1)}, {S(1)}"),
            ([S(0), S(2)], $"missing shard 1/3 of the sweep in {sweep} (given: 0/3, 2/3)"),
            ([S(0)], "missing shards 1/3, 2/3"),
            ([S(0), Path.Combine(split3, "shard-1-of-2")], "the sweep was split two ways"),
            ([S(0), whole], $"{whole}: not a shard folder (its results.json is a whole 'cv' run"),
            ([S(0), empty], $"{empty}: not a shard folder (no results.json"),
            ([S(0), garbage], $"{Path.Combine(garbage, "results.json")}: not a shard's results"),
            ([S(0), Path.Combine(Folder, "no-such")], "no-such: no such folder"),
        };
        foreach (var (args, expected) in cases)
        {
            string output = Fresh("merged");
            var outcome = Merge([.. args, "--out", output]);
            Assert.That(outcome.ExitCode, Is.EqualTo(2), string.Join(" ", args));
            Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1), outcome.Error);
            Assert.That(outcome.ErrorLines[0], Does.StartWith("error: ").And.Contain(expected));
            Assert.That(Directory.Exists(output), Is.False);
        }
    }

    [Test]
    public void MergeRefusesAShardWhoseConfigurationWasEdited()
    {
        string sweep = Fresh("sweep");
        for (int k = 0; k < 2; k++) Succeeded(Run([.. CrossValidation, "--shard", $"{k}/2", "--out", sweep]));
        string path = Path.Combine(sweep, "shard-1-of-2", "results.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"seed\": 9", "\"seed\": 10"));
        var outcome = Merge(Path.Combine(sweep, "shard-0-of-2"), Path.Combine(sweep, "shard-1-of-2"), "--out", Fresh("merged"));
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines.Single(), Does.Contain("does not match its fingerprint"));
    }

    [TestCase(0, 2, "shard-0-of-2")]
    [TestCase(3, 12, "shard-03-of-12")]
    [TestCase(11, 12, "shard-11-of-12")]
    [TestCase(0, 1, "shard-0-of-1")]
    public void ShardFoldersSortInIndexOrder(int index, int count, string expected) =>
        Assert.That(new Shard(index, count).FolderName, Is.EqualTo(expected));

    [Test]
    public void ShardParsesKOverN()
    {
        Assert.That(Shard.Parse("3/12"), Is.EqualTo(new Shard(3, 12)));
        Assert.That(new Shard(3, 12).Contains(15), Is.True);
        Assert.That(new Shard(3, 12).Contains(16), Is.False);
        Assert.Throws<UsageException>(() => Shard.Parse("12/12"));
        Assert.Throws<UsageException>(() => Shard.Parse("1/2/3"));
    }
}
