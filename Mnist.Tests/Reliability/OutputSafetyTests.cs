using System.Text;
using System.Text.RegularExpressions;
using Mnist.Core.Numerics;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Tests.Runner;
using Mnist.Core.IO;

namespace Mnist.Tests.Reliability;

/// <summary>
/// Outputs are written atomically and never clobbered: every writer in the product code goes through
/// <see cref="AtomicFile"/>, a failing write leaves the old file whole, and every command refuses an
/// output that already holds results unless --force. Also: --threads reaches <see cref="ComputeSettings"/>.
/// </summary>
[TestFixture]
public sealed partial class OutputSafetyTests : TempFolderFixture
{
    private string _data = "";

    [SetUp]
    public void SetUp() => _data = HostileInput.WriteSmallDatasets(Folder, trainImages: 200);

    private RunOutcome Run(params string[] args) => RunnerHarness.Run(TestCatalogs.Centroids(), Folder, args);

    [GeneratedRegex(@"\b(File\.(WriteAll\w*|AppendAll\w*|Create|CreateText|AppendText|OpenWrite)|new\s+(FileStream|StreamWriter)\s*\()")]
    private static partial Regex DirectWrite();

    [Test]
    public void EveryProductWriterGoesThroughAtomicFile()
    {
        var offenders = new List<string>();
        foreach (string project in new[] { "Mnist.Core", "Mnist.Baselines", "Mnist.Cnn", "Mnist.Runner" })
            foreach (string file in Directory.EnumerateFiles(Path.Combine(TestData.RepositoryRoot, project), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || Path.GetFileName(file) == "AtomicFile.cs") continue;
                int number = 0;
                foreach (string line in File.ReadLines(file))
                {
                    number++;
                    if (DirectWrite().IsMatch(line) && !line.TrimStart().StartsWith("//", StringComparison.Ordinal))
                        offenders.Add($"{Path.GetRelativePath(TestData.RepositoryRoot, file)}:{number}: {line.Trim()}");
                }
            }
        Assert.That(offenders, Is.Empty, "write outputs with AtomicFile (temporary file renamed into place)");
    }

    [Test]
    public void AFailingWriteLeavesTheExistingFileWholeAndNoTemporaryFile()
    {
        string path = Path.Combine(Folder, "out", "results.json");
        AtomicFile.WriteAllText(path, "old contents");
        Assert.That(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(Encoding.UTF8.GetBytes("half of the new"));
            throw new IOException("disk full");
        }), Throws.TypeOf<OutputWriteException>().With.Message.EqualTo($"cannot write {path}: disk full"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("old contents"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.EqualTo(new[] { path }));

        // A model whose payload writer fails midway: the model file already there is untouched.
        string model = Path.Combine(Folder, "out", "m.model");
        File.WriteAllText(model, "previous model");
        Assert.That(() => ModelFile.Save(new ThrowingModel(), model), Throws.TypeOf<InvalidOperationException>());
        Assert.That(File.ReadAllText(model), Is.EqualTo("previous model"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal)), Is.Empty);
    }

    private sealed class ThrowingModel : ITrainedModel
    {
        public string TrainerName => "centroid";
        public IReadOnlyDictionary<string, object> Hyperparameters => new Dictionary<string, object>();
        public void PredictProbabilities(Mnist.Core.Data.DigitDataView data, Span<float> probabilities) { }
        public void WritePayload(BinaryWriter writer)
        {
            writer.Write(new byte[1000]);
            throw new InvalidOperationException("payload writer failed");
        }
    }

    /// <summary>Each command, the output it must not clobber, and its arguments (writing there).</summary>
    private (string Command, string Existing, string[] Args)[] Commands()
    {
        string o = Path.Combine(Folder, "o");
        return
        [
            ("compare", Path.Combine(o, "compare", "results.json"), ["compare", "--data", _data, "--trainers", "centroid", "--out", Path.Combine(o, "compare")]),
            ("cv", Path.Combine(o, "cv", "results.json"), ["cv", "--data", _data, "--trainers", "centroid", "--folds", "2", "--out", Path.Combine(o, "cv")]),
            ("grid", Path.Combine(o, "grid", "results.json"), ["grid", "--data", _data, "--trainer", "centroid", "--param", "temperature=1,2", "--out", Path.Combine(o, "grid")]),
            ("kaggle submission", Path.Combine(o, "k1", "sub.csv"), ["kaggle", "--train", "train.csv", "--test", "test.csv", "--trainer", "centroid", "--out", Path.Combine(o, "k1", "sub.csv")]),
            ("kaggle results", Path.Combine(o, "k2", "results.json"), ["kaggle", "--train", "train.csv", "--test", "test.csv", "--trainer", "centroid", "--out", Path.Combine(o, "k2", "sub.csv")]),
            ("train", Path.Combine(o, "m.model"), ["train", "--data", _data, "--trainer", "centroid", "--model-out", Path.Combine(o, "m.model")]),
            ("predict", Path.Combine(o, "p", "p.csv"), ["predict", "--model", Path.Combine(Folder, "ok.model"), "--input", "test.csv", "--out", Path.Combine(o, "p", "p.csv")]),
        ];
    }

    [Test]
    public void EveryCommandRefusesToOverwriteExistingResultsWithoutForce()
    {
        Assert.That(Run("train", "--data", _data, "--trainer", "centroid", "--model-out", "ok.model").ExitCode, Is.Zero);
        foreach (var (command, existing, args) in Commands())
        {
            Directory.CreateDirectory(Path.GetDirectoryName(existing)!);
            File.WriteAllText(existing, "earlier results");
            var refused = Run(args);
            Assert.That(refused.ExitCode, Is.EqualTo(2), $"{command}: {refused.Error}");
            Assert.That(refused.ErrorLines, Has.Length.EqualTo(1), command);
            Assert.That(refused.ErrorLines[0], Does.StartWith("error: ").And.Contain(existing).And.Contain("--force"), command);
            Assert.That(File.ReadAllText(existing), Is.EqualTo("earlier results"), $"{command} touched {existing}");
            Assert.That(Directory.GetFiles(Path.GetDirectoryName(existing)!), Is.EqualTo(new[] { existing }), $"{command} wrote something beside it");

            var forced = Run([.. args, "--force"]);
            Assert.That(forced.ExitCode, Is.Zero, $"{command} --force: {forced.Error}");
            Assert.That(File.ReadAllText(existing), Is.Not.EqualTo("earlier results"), $"{command} --force");
        }
    }

    [Test]
    public void ThreadsOptionSetsComputeSettingsDuringTheRun()
    {
        int? seen = null;
        var catalog = TestCatalogs.Centroids().Add(TrainerRegistration.For("probe", "records ComputeSettings.Threads", HyperparameterSchema.Empty,
            _ => new ThreadProbe(t => seen = t), _ => throw new NotSupportedException()));
        int before = ComputeSettings.Threads;
        var outcome = RunnerHarness.Run(catalog, Folder, "compare", "--data", _data, "--trainers", "probe", "--threads", "1", "--out", "t1");
        Assert.That(seen, Is.EqualTo(1), outcome.Output + outcome.Error);
        outcome = RunnerHarness.Run(catalog, Folder, "compare", "--data", _data, "--trainers", "probe", "--out", "tall");
        Assert.That(seen, Is.EqualTo(Environment.ProcessorCount), "all cores without --threads");
        Assert.That(ComputeSettings.Threads, Is.EqualTo(before));
    }

    private sealed class ThreadProbe(Action<int> record) : ITrainer
    {
        public string Name => "probe";
        public IReadOnlyDictionary<string, object> Hyperparameters => new Dictionary<string, object>();

        public ITrainedModel Fit(Mnist.Core.Data.DigitDataView train, Mnist.Core.Data.DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            record(ComputeSettings.Threads);
            return TestCatalogs.Centroids().Create("centroid").Fit(train, validation, progress, cancellationToken);
        }
    }
}
