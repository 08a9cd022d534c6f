using System.IO.Compression;
using Mnist.Core.Data;

namespace Mnist.Tests;

/// <summary>Locates the repository's data folder and loads the real MNIST files once per test run.</summary>
public static class TestData
{
    private static readonly Lazy<string> RepositoryRootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MnistExperiments.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("MnistExperiments.sln not found above the test directory.");
    });

    private static readonly Lazy<Dataset> MnistDataset = new(() => DatasetLoader.Load(DataFolder));

    public static string RepositoryRoot => RepositoryRootPath.Value;

    public static string DataFolder => Path.Combine(RepositoryRoot, "data");

    /// <summary>The Kaggle-format files in ../shared/kaggle beside the clone, or null when absent.</summary>
    public static string? KaggleFolder
    {
        get
        {
            string path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "kaggle"));
            return Directory.Exists(path) ? path : null;
        }
    }

    /// <summary>The full MNIST dataset (60k train, 10k test), loaded once.</summary>
    public static Dataset Mnist => MnistDataset.Value;

    /// <summary>A fresh temporary folder, deleted by the caller's TearDown (or left in /tmp).</summary>
    public static string NewTempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "mnist-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(raw);
        return output.ToArray();
    }
}
