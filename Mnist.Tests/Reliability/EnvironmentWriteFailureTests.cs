using System.Diagnostics;
using Mnist.Core.IO;
using Mnist.Tests.Runner;

namespace Mnist.Tests.Reliability;

/// <summary>
/// A write the environment refuses — a full disk (ENOSPC), no permission (EACCES), a read-only file system
/// (EROFS) — is one "error:" line naming the file and the cause, exit 1, no stack trace, and no temporary or
/// partial file left: for every command and for checkpoints written inside a trainer's fit. Injected through
/// <see cref="AtomicFile.WrapStreamForTests"/> always; on a real tiny or read-only tmpfs when the tests may mount one.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class EnvironmentWriteFailureTests : SharedTempFolderFixture
{
    private string _data = "";

    [OneTimeSetUp]
    public void WriteData()
    {
        _data = HostileInput.WriteSmallDatasets(Folder, trainImages: 300);
        Assert.That(RunnerHarness.Run(TestCatalogs.Centroids(), Folder, "train", "--data", _data, "--trainer", "centroid", "--model-out", "ok.model").ExitCode, Is.Zero);
    }

    /// <summary>Each command writing under <paramref name="root"/>.</summary>
    private (string Command, string Output, string[] Args)[] Commands(string root) =>
    [
        ("compare", Path.Combine(root, "compare"), ["compare", "--data", _data, "--trainers", "centroid", "--out", Path.Combine(root, "compare")]),
        ("cv", Path.Combine(root, "cv"), ["cv", "--data", _data, "--trainers", "centroid", "--folds", "2", "--out", Path.Combine(root, "cv")]),
        ("grid", Path.Combine(root, "grid"), ["grid", "--data", _data, "--trainer", "centroid", "--param", "temperature=1,2", "--out", Path.Combine(root, "grid")]),
        ("kaggle", Path.Combine(root, "kaggle"), ["kaggle", "--train", "train.csv", "--test", "test.csv", "--trainer", "centroid", "--out", Path.Combine(root, "kaggle", "sub.csv")]),
        ("train", Path.Combine(root, "train"), ["train", "--data", _data, "--trainer", "centroid", "--model-out", Path.Combine(root, "train", "m.model")]),
        ("predict", Path.Combine(root, "predict"), ["predict", "--model", "ok.model", "--input", "test.csv", "--out", Path.Combine(root, "predict", "p.csv")]),
    ];

    private static void AssertOneLineNamingTheFile(RunOutcome outcome, string output, string cause, string what)
    {
        Assert.That(outcome.ExitCode, Is.EqualTo(1), $"{what}: {outcome.Error}");
        Assert.That(outcome.ErrorLines, Has.Length.EqualTo(1), $"{what}: {outcome.Error}");
        Assert.That(outcome.ErrorLines[0], Does.StartWith($"error: cannot write {output}").And.EndWith($": {cause}"), what);
        Assert.That(outcome.Error, Does.Not.Contain("   at ").And.Not.Contain("failed:"), $"{what}: no stack trace, not a trainer crash");
    }

    private static string[] LeftFiles(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];

    private static IEnumerable<TestCaseData> Failures()
    {
        yield return new TestCaseData(new IOException("No space left on device", 28), "no space left on device").SetArgDisplayNames("ENOSPC");
        yield return new TestCaseData(new UnauthorizedAccessException("Access denied"), "permission denied").SetArgDisplayNames("EACCES");
        yield return new TestCaseData(new IOException("Read-only file system", 30), "read-only file system").SetArgDisplayNames("EROFS");
    }

    [TestCaseSource(nameof(Failures))]
    public void EveryCommandReportsARefusedWriteInOneLineAndLeavesNoFile(Exception failure, string cause)
    {
        string root = Path.Combine(Folder, "injected-" + Guid.NewGuid().ToString("N"));
        AtomicFile.WrapStreamForTests = stream => new FailingStream(stream, failure, afterBytes: 100);
        try
        {
            foreach (var (command, output, args) in Commands(root))
            {
                var outcome = RunnerHarness.Run(TestCatalogs.Centroids(), Folder, args);
                AssertOneLineNamingTheFile(outcome, output, cause, command);
                Assert.That(LeftFiles(output), Is.Empty, $"{command} left files behind");
            }
        }
        finally
        {
            AtomicFile.WrapStreamForTests = null;
        }
    }

    [Test]
    public void AReportThatCannotBeFinishedLeavesNoneOfItsFiles()
    {
        string output = Path.Combine(Folder, "report-full");
        // The disk fills up at the last file of the report: the pictures and report.md already written go again.
        AtomicFile.WrapStreamForTests = stream => ((FileStream)stream).Name.Contains(".results.json.", StringComparison.Ordinal)
            ? new FailingStream(stream, new IOException("No space left on device", 28), afterBytes: 0)
            : stream;
        try
        {
            var outcome = RunnerHarness.Run(TestCatalogs.Centroids(), Folder, "compare", "--data", _data, "--trainers", "centroid", "--out", output);
            AssertOneLineNamingTheFile(outcome, Path.Combine(output, "results.json"), "no space left on device", "compare");
            Assert.That(outcome.Output, Does.Contain("centroid"), "the trainer ran");
            Assert.That(Directory.GetFiles(output), Is.Empty, "no picture, report.md or temporary file is left");
        }
        finally
        {
            AtomicFile.WrapStreamForTests = null;
        }
    }

    [Test]
    public void AFullDiskDuringACheckpointIsNotATrainerCrash()
    {
        string output = Path.Combine(Folder, "checkpoint-full");
        AtomicFile.WrapStreamForTests = stream => new FailingStream(stream, new IOException("No space left on device", 28), afterBytes: 0);
        try
        {
            var outcome = RunnerHarness.Run(TestCatalogs.WithReal(), Folder,
                "compare", "--data", _data, "--trainers", "mlp", "--param", "epochs=1", "--out", output);
            AssertOneLineNamingTheFile(outcome, Path.Combine(output, "checkpoints", "mlp.ckpt"), "no space left on device", "compare mlp");
            Assert.That(LeftFiles(output), Is.Empty);
        }
        finally
        {
            AtomicFile.WrapStreamForTests = null;
        }
    }

    [Test]
    public void AFullTmpfsEndsEveryCommandInOneLine()
    {
        using var mount = TmpfsMount.Create(Folder, "size=64k");
        var outcome = RunnerHarness.Run(TestCatalogs.WithReal(), Folder,
            "compare", "--data", _data, "--trainers", "mlp", "--param", "epochs=1", "--out", Path.Combine(mount.Path, "compare"));
        AssertOneLineNamingTheFile(outcome, Path.Combine(mount.Path, "compare", "checkpoints", "mlp.ckpt"), "no space left on device", "compare mlp");
        Assert.That(LeftFiles(mount.Path).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal)), Is.Empty);

        outcome = RunnerHarness.Run(TestCatalogs.WithReal(), Folder,
            "train", "--data", _data, "--trainer", "knn", "--model-out", Path.Combine(mount.Path, "knn.model"));
        AssertOneLineNamingTheFile(outcome, Path.Combine(mount.Path, "knn.model"), "no space left on device", "train knn (a 235 kB model)");
        Assert.That(LeftFiles(mount.Path).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal) || f.EndsWith(".model", StringComparison.Ordinal)), Is.Empty);
    }

    /// <summary>An unwritable output is found before training (a probe file), not after a long run.</summary>
    [Test]
    public void AReadOnlyTmpfsEndsEveryCommandInOneLine()
    {
        using var mount = TmpfsMount.Create(Folder, "ro,size=64k");
        foreach (var (command, output, args) in Commands(mount.Path))
        {
            var outcome = RunnerHarness.Run(TestCatalogs.Centroids(), Folder, args);
            AssertOneLineNamingTheFile(outcome, output, "read-only file system", command);
            Assert.That(outcome.Output, Does.Not.Contain("] started"), $"{command}: refused before any training");
        }
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void AReadOnlyFolderEndsEveryCommandInOneLine()
    {
        if (OperatingSystem.IsWindows()) Assert.Ignore("Unix file modes");
        string folder = Path.Combine(Folder, "read-only");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            if (CanWrite(folder)) Assert.Ignore("this user (root) writes into read-only folders; the injected EACCES case covers it");
            foreach (var (command, output, args) in Commands(folder))
            {
                var outcome = RunnerHarness.Run(TestCatalogs.Centroids(), Folder, args);
                AssertOneLineNamingTheFile(outcome, output, "permission denied", command);
            }
        }
        finally
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Root writes anywhere, so as root the real EACCES case runs the built mnist as user nobody.</summary>
    [Test]
    public void APermissionDeniedFolderEndsInOneLineForAnotherUser()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") Assert.Ignore("needs root to run mnist as another user");
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "mnist.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        if (!OthersCanReach(dll) || !OthersCanReach(_data)) Assert.Ignore("user nobody cannot reach the build or the data (a folder above them is private, e.g. a mktemp clone)");
        string model = Path.Combine(Folder, "nobody-cannot-write", "m.model");
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Folder };
        foreach (string arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", dotnet, dll,
                     "train", "--data", _data, "--trainer", "logreg", "--param", "max-iterations=2", "--model-out", model })
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Ignore("setpriv is not installed");
            return;
        }
        using (process)
        {
            string error = process.StandardError.ReadToEnd();
            string output = process.StandardOutput.ReadToEnd();
            Assert.That(process.WaitForExit(120_000), Is.True);
            if (error.Contains("setpriv:", StringComparison.Ordinal)) Assert.Ignore($"setpriv cannot switch users here: {error}");
            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(process.ExitCode, Is.EqualTo(1), output + error);
            Assert.That(lines, Is.EqualTo(new[] { $"error: cannot write {model}: permission denied" }));
            Assert.That(output, Does.Not.Contain("] started"), "refused before training");
        }
    }

    /// <summary>Whether every folder above <paramref name="path"/> lets other users through (o+x).</summary>
    private static bool OthersCanReach(string path)
    {
        if (OperatingSystem.IsWindows()) return true;
        for (var folder = new DirectoryInfo(Path.GetFullPath(path)).Parent; folder is not null; folder = folder.Parent)
            if (!File.GetUnixFileMode(folder.FullName).HasFlag(UnixFileMode.OtherExecute)) return false;
        return true;
    }

    private static bool CanWrite(string folder)
    {
        try
        {
            string probe = Path.Combine(folder, "probe");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Passes writes through until <c>afterBytes</c>, then throws <c>failure</c> (a disk that fills up).</summary>
    private sealed class FailingStream(Stream inner, Exception failure, long afterBytes) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > afterBytes) throw failure;
            inner.Write(buffer);
            _written += buffer.Length;
        }
    }

    /// <summary>A tmpfs mounted for one test (root only); the test is ignored where mounting is not allowed.</summary>
    private sealed class TmpfsMount : IDisposable
    {
        private TmpfsMount(string path) => Path = path;

        public string Path { get; }

        public static TmpfsMount Create(string parent, string options)
        {
            if (!OperatingSystem.IsLinux() || Environment.UserName != "root") Assert.Ignore("mounting a tmpfs needs root on Linux");
            string path = System.IO.Path.Combine(parent, "tmpfs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(path);
            if (Execute("mount", "-t", "tmpfs", "-o", options, "tmpfs", path) != 0)
            {
                Directory.Delete(path);
                Assert.Ignore("cannot mount a tmpfs here");
            }
            return new TmpfsMount(path);
        }

        public void Dispose()
        {
            Execute("umount", Path);
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }

        private static int Execute(string program, params string[] args)
        {
            var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string arg in args) start.ArgumentList.Add(arg);
            try
            {
                using var process = Process.Start(start)!;
                process.WaitForExit();
                return process.ExitCode;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return -1;
            }
        }
    }
}
