using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mnist.Tests.Runner;

/// <summary>results.json with everything that may differ between two identical runs removed: timings, dates, the output path.</summary>
internal static class Figures
{
    private static readonly HashSet<string> Volatile = new(StringComparer.Ordinal)
    {
        "createdUtc", "fitSeconds", "predictSeconds", "seconds", "imagesPerSecond", "command", "out", "configFile", "path", "peakWorkingSetBytes",
    };

    public static string Normalized(string folder)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "results.json")))!;
        Strip(node);
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (string key in obj.Select(p => p.Key).Where(Volatile.Contains).ToList()) obj.Remove(key);
                foreach (var (_, child) in obj) Strip(child);
                break;
            case JsonArray array:
                foreach (var child in array) Strip(child);
                break;
        }
    }
}

/// <summary><c>--config FILE.json</c>: the same options as a file, overridden by the command line, echoed in results.json.</summary>
[TestFixture]
public sealed class ConfigFileTests : TempFolderFixture
{
    private string Config(string json, string name = "run.json")
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    private RunOutcome Run(params string[] args) => RunnerHarness.Run(TestCatalogs.Centroids(), Folder, args);

    private static string Json(string value) => JsonSerializer.Serialize(value);

    [Test]
    public void ConfigValuesApplyAndTheCommandLineOverridesThem()
    {
        string config = Config($$"""
            {
              "_comment": "a committed experiment",
              "trainers": "centroid",
              "data": {{Json(RunnerHarness.RealDataFolder())}},
              "train-limit": 500,
              "test-limit": 100,
              "seed": 7,
              "param": ["temperature=3", "max-per-class=20"],
            }
            """);
        string output = Path.Combine(Folder, "out");
        var outcome = Run("compare", "--config", config, "--seed", "9", "--param", "temperature=4", "--out", output);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var root = json.RootElement;
        var model = root.GetProperty("models").EnumerateArray().Single();
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("seed").GetInt32(), Is.EqualTo(9), "the command line wins");
            Assert.That(root.GetProperty("trainLimit").GetInt32(), Is.EqualTo(500), "the file fills in the rest");
            Assert.That(root.GetProperty("testCount").GetInt32(), Is.EqualTo(100));
            Assert.That(model.GetProperty("trainer").GetString(), Is.EqualTo("centroid"));
            Assert.That(model.GetProperty("hyperparameters").GetProperty("temperature").GetDouble(), Is.EqualTo(4), "--param on the command line replaces the file's value of that hyperparameter");
            Assert.That(model.GetProperty("hyperparameters").GetProperty("max-per-class").GetInt32(), Is.EqualTo(20), "and keeps the file's others");
            Assert.That(root.GetProperty("configFile").GetString(), Is.EqualTo(config));
            Assert.That(root.GetProperty("version").GetString(), Does.StartWith("0.1.0"));
            var configuration = root.GetProperty("configuration");
            Assert.That(configuration.GetProperty("seed").GetInt32(), Is.EqualTo(9));
            Assert.That(configuration.GetProperty("train-limit").GetInt32(), Is.EqualTo(500));
            Assert.That(configuration.GetProperty("param").EnumerateArray().Select(p => p.GetString()), Is.EquivalentTo(new[] { "temperature=4", "max-per-class=20" }));
        });
        Assert.That(File.ReadAllText(Path.Combine(output, "report.md")), Does.Contain("## Configuration").And.Contain("\"train-limit\": 500"));
    }

    [Test]
    public void TheEchoedConfigurationReRunsTheSameExperiment()
    {
        string first = Path.Combine(Folder, "first");
        var outcome = Run("compare", "--data", RunnerHarness.RealDataFolder(), "--train-limit", "400", "--test-limit", "100",
            "--seed", "11", "--threads", "1", "--param", "centroid.temperature=2", "--out", first);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(first, "results.json")));
        string config = Config(json.RootElement.GetProperty("configuration").GetRawText(), "echoed.json");
        string second = Path.Combine(Folder, "second");
        var rerun = Run("compare", "--config", config, "--out", second);

        Assert.That(rerun.ExitCode, Is.Zero, rerun.Error);
        Assert.That(Figures.Normalized(second), Is.EqualTo(Figures.Normalized(first)));
    }

    [Test]
    public void RequiredOptionsCanComeFromTheFile()
    {
        string data = Path.Combine(Folder, "kaggle");
        Directory.CreateDirectory(data);
        KaggleFixture.WriteTrain(Path.Combine(data, "train.csv"), 6);
        KaggleFixture.WriteTest(Path.Combine(data, "test.csv"), 2);
        string config = Config($$"""{"train": {{Json(Path.Combine(data, "train.csv"))}}, "test": {{Json(Path.Combine(data, "test.csv"))}}, "trainer": "centroid", "validation-fraction": 0.5}""");
        var outcome = Run("kaggle", "--config", config, "--out", Path.Combine(Folder, "sub", "s.csv"));
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(File.ReadAllLines(Path.Combine(Folder, "sub", "s.csv")), Has.Length.EqualTo(21));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "sub", "results.json")));
        Assert.That(json.RootElement.GetProperty("validationCount").GetInt32(), Is.EqualTo(30));
    }

    [TestCase("{\"seed\": 7,", "not valid JSON at line 1")]
    [TestCase("[1, 2]", "one JSON object")]
    [TestCase("{\"sede\": 7}", "unknown key 'sede'")]
    [TestCase("{\"seed\": \"abc\"}", "abc")]
    [TestCase("{\"seed\": [1, 2]}", "'seed' takes one value")]
    [TestCase("{\"force\": \"yes\"}", "'force' must be true or false")]
    [TestCase("{\"param\": [{\"a\": 1}]}", "'param' holds an object")]
    [TestCase("{\"config\": \"other.json\"}", "cannot name another config file")]
    [TestCase("{\"seed\": 1, \"Seed\": 2}", "appears twice")]
    public void MalformedConfigIsOneLineNamingTheFileWithExitTwo(string content, string expected)
    {
        string config = Config(content, "bad.json");
        string output = Path.Combine(Folder, "out");
        var outcome = Run("compare", "--config", config, "--out", output);
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1), outcome.Error);
        Assert.That(outcome.ErrorLines[0], Does.StartWith("error: ").And.Contain("bad.json").And.Contain(expected));
        Assert.That(outcome.Error, Does.Not.Contain("   at "));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void MissingConfigFileIsOneLineWithExitTwo()
    {
        var outcome = Run("cv", "--config", Path.Combine(Folder, "nowhere.json"));
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines.Single(), Does.Contain("nowhere.json").And.Contain("not found"));
    }

    [TestCase("compare")]
    [TestCase("kaggle")]
    [TestCase("cv")]
    [TestCase("grid")]
    [TestCase("train")]
    [TestCase("predict")]
    public void EveryCommandTakesAConfigFile(string command)
    {
        string config = Config("{\"no-such-option\": 1}");
        var outcome = Run(command, "--config", config);
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.ErrorLines.Single(), Does.Contain($"unknown key 'no-such-option' for 'mnist {command}'"));
    }
}

/// <summary>The same seed and thread count give the same results.json figures (timings aside).</summary>
[TestFixture]
public sealed class ReproducibilityTests : TempFolderFixture
{
    private string Run(string name, params string[] args)
    {
        string output = Path.Combine(Folder, name);
        var outcome = RunnerHarness.Run(TestCatalogs.WithReal(), Folder, [.. args, "--data", RunnerHarness.RealDataFolder(), "--out", output]);
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        return Figures.Normalized(output);
    }

    [Test]
    public void TestTrainerCompareIsReproducible()
    {
        string[] args = ["compare", "--trainers", "centroid,centroid-raw", "--train-limit", "500", "--test-limit", "100", "--seed", "4", "--threads", "2"];
        Assert.That(Run("b", args), Is.EqualTo(Run("a", args)));
    }

    [Test]
    public void MlpCompareIsReproducibleAndDependsOnTheSeed()
    {
        string[] args = ["compare", "--trainers", "mlp", "--param", "epochs=1", "--train-limit", "1000", "--test-limit", "200", "--threads", "2"];
        string first = Run("a", [.. args, "--seed", "5"]);
        string again = Run("b", [.. args, "--seed", "5"]);
        string other = Run("c", [.. args, "--seed", "6"]);
        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first), "the seed reaches the split and the trainer");
        Assert.That(first, Does.Contain("\"trainLoss\""), "the mlp's history is part of the compared figures");
    }

    [Test]
    public void LogregKFoldGridIsReproducible()
    {
        string[] args = ["grid", "--trainer", "logreg", "--param", "l2=1e-4,1e-1", "--param", "max-iterations=15", "--folds", "2",
            "--train-limit", "600", "--test-limit", "100", "--seed", "8", "--threads", "2"];
        string first = Run("a", args);
        Assert.That(Run("b", args), Is.EqualTo(first));
        Assert.That(first, Does.Contain("\"l2\": 0.0001"), "grid parameters are printed like the hyperparameters");
    }

    [Test]
    public void MlpCrossValidationIsReproducible()
    {
        string[] args = ["cv", "--trainers", "mlp", "--param", "epochs=1", "--folds", "2", "--train-limit", "600", "--seed", "3", "--threads", "2"];
        Assert.That(Run("b", args), Is.EqualTo(Run("a", args)));
    }
}
