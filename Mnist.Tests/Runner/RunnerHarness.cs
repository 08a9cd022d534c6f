using Mnist.Core.Training;
using Mnist.Runner;

namespace Mnist.Tests.Runner;

/// <summary>The outcome of one in-process run of the mnist command line.</summary>
internal sealed record RunOutcome(int ExitCode, string Output, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Bad input: exit code 2 and one stderr line "error: …" containing each of <paramref name="expected"/>.</summary>
    public void AssertOneErrorLine(params string[] expected)
    {
        Assert.That(ExitCode, Is.EqualTo(2), Error);
        Assert.That(ErrorLines, Has.Length.EqualTo(1), Error);
        Assert.That(ErrorLines[0], Does.StartWith("error: "));
        foreach (string text in expected) Assert.That(ErrorLines[0], Does.Contain(text));
    }
}

/// <summary>Runs the runner in-process with an injected catalog, plain console and captured writers.</summary>
internal static class RunnerHarness
{
    public static readonly DateTime FixedNow = new(2025, 1, 2, 3, 4, 5, DateTimeKind.Local);

    public static RunOutcome Run(TrainerCatalog catalog, string currentDirectory, CancellationToken cancellation, params string[] args) =>
        Run(catalog, currentDirectory, cancellation, new Dictionary<string, string>(), args);

    /// <summary>Runs with <paramref name="variables"/> as the only environment variables the runner sees (the test process's own stay hidden).</summary>
    public static RunOutcome Run(TrainerCatalog catalog, string currentDirectory, CancellationToken cancellation, IReadOnlyDictionary<string, string> variables, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new RunnerEnvironment
        {
            Catalog = catalog,
            Console = RunnerEnvironment.PlainConsole(output),
            Out = output,
            Error = error,
            Cancellation = cancellation,
            LiveProgress = false,
            CurrentDirectory = currentDirectory,
            BaseDirectory = currentDirectory,
            Now = () => FixedNow,
            Variable = name => variables.GetValueOrDefault(name),
        };
        // --threads sets a process-wide value; do not leak it into other tests.
        int exitCode;
        using (ComputeThreads.Keep()) exitCode = Cli.Run(args, environment);
        return new RunOutcome(exitCode, output.ToString(), error.ToString());
    }

    public static RunOutcome Run(TrainerCatalog catalog, string currentDirectory, params string[] args) =>
        Run(catalog, currentDirectory, CancellationToken.None, args);

    /// <summary>The repository root: the folder holding MnistExperiments.sln above the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "MnistExperiments.sln"))) return directory.FullName;
        throw new InvalidOperationException("MnistExperiments.sln not found above " + TestContext.CurrentContext.TestDirectory);
    }

    public static string RealDataFolder() => Path.Combine(RepositoryRoot(), "data");

    /// <summary>A fresh empty temporary folder.</summary>
    public static string TempFolder(string prefix)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mnist-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Small subsets of the real Kaggle files in ../shared/kaggle (the first rows of each), for end-to-end tests.</summary>
internal static class KaggleSubsets
{
    public static string? SharedFolder() => TestData.KaggleFolder;

    /// <summary>Writes the header and the first <paramref name="rows"/> data rows of a gzipped Kaggle CSV to <paramref name="destination"/>.</summary>
    public static void WriteHead(string source, string destination, int rows)
    {
        using var input = new StreamReader(new System.IO.Compression.GZipStream(File.OpenRead(source), System.IO.Compression.CompressionMode.Decompress));
        using var output = new StreamWriter(destination) { NewLine = "\n" };
        for (int i = 0; i <= rows && input.ReadLine() is { } line; i++) output.WriteLine(line);
    }

    /// <summary>train.csv (first <paramref name="trainRows"/>) and test.csv (first <paramref name="testRows"/>) in <paramref name="folder"/>; ignores the test when the files are absent.</summary>
    public static (string Train, string Test) Write(string folder, int trainRows = 600, int testRows = 200)
    {
        string? shared = SharedFolder();
        if (shared is null) Assert.Ignore("../shared/kaggle is not beside the repository");
        string train = Path.Combine(folder, "train.csv"), test = Path.Combine(folder, "test.csv");
        WriteHead(Path.Combine(shared!, "train.csv.gz"), train, trainRows);
        WriteHead(Path.Combine(shared!, "test.csv.gz"), test, testRows);
        return (train, test);
    }
}

/// <summary>Writes small synthetic Kaggle-style CSV datasets: each class lights its own horizontal band.</summary>
internal static class KaggleFixture
{
    public static void WriteTrain(string path, int perClass, int seed = 1) => Write(path, perClass, labelled: true, seed);

    public static void WriteTest(string path, int perClass, int seed = 2) => Write(path, perClass, labelled: false, seed);

    private static void Write(string path, int perClass, bool labelled, int seed)
    {
        var random = new Random(seed);
        using var writer = new StreamWriter(path);
        var header = Enumerable.Range(0, 784).Select(i => $"pixel{i}");
        writer.WriteLine(string.Join(',', labelled ? header.Prepend("label") : header));
        for (int n = 0; n < perClass; n++)
            for (int label = 0; label < 10; label++)
            {
                var cells = new List<string>(785);
                if (labelled) cells.Add(label.ToString(System.Globalization.CultureInfo.InvariantCulture));
                for (int p = 0; p < 784; p++)
                {
                    int row = p / 28;
                    bool band = row >= 2 + label * 2 && row < 4 + label * 2;
                    int value = band ? 200 + random.Next(56) : random.Next(40);
                    cells.Add(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                writer.WriteLine(string.Join(',', cells));
            }
    }
}
