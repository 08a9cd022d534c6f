using System.Security.Cryptography;

namespace Mnist.Core.Data;

/// <summary>A labelled training set and an optional test set (labelled for MNIST, unlabelled for Kaggle's test.csv).</summary>
/// <param name="Train">Labelled training images.</param>
/// <param name="Test">Test images, or null when the folder has none.</param>
/// <param name="Format">"mnist-idx" or "kaggle-csv".</param>
/// <param name="Files">The files that were read, for reports.</param>
public sealed record Dataset(DigitDataView Train, DigitDataView? Test, string Format, IReadOnlyList<string> Files);

/// <summary>
/// Finds and loads a dataset folder: the four MNIST IDX files (raw or .gz), or Kaggle's
/// train.csv[.gz] with an optional test.csv[.gz]. When the folder holds a SHA256SUMS file, every
/// file it lists that is loaded is verified first.
/// </summary>
public static class DatasetLoader
{
    /// <summary>The optional checksum file of a data folder (sha256sum's format); when present, every loaded file it lists is verified.</summary>
    public const string ChecksumFileName = "SHA256SUMS";

    /// <summary>Loads the dataset in <paramref name="folder"/>; a missing, unreadable or malformed file is a <see cref="DataFormatException"/>.</summary>
    public static Dataset Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new DataFormatException(folder, "data folder not found");

        string? trainImages = FindFile(folder, "train-images-idx3-ubyte", "train-images.idx3-ubyte");
        string? trainLabels = FindFile(folder, "train-labels-idx1-ubyte", "train-labels.idx1-ubyte");
        if (trainImages is not null || trainLabels is not null)
        {
            if (trainImages is null) throw new DataFormatException(folder, "train-labels-idx1-ubyte found but train-images-idx3-ubyte[.gz] is missing");
            if (trainLabels is null) throw new DataFormatException(folder, "train-images-idx3-ubyte found but train-labels-idx1-ubyte[.gz] is missing");
            string? testImages = FindFile(folder, "t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte");
            string? testLabels = FindFile(folder, "t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte");
            var files = new List<string> { trainImages, trainLabels };
            if (testImages is not null) files.Add(testImages);
            if (testLabels is not null) files.Add(testLabels);
            VerifyChecksums(folder, files);
            var train = MnistIdxLoader.Load(trainImages, trainLabels);
            var test = testImages is null ? null : MnistIdxLoader.Load(testImages, testLabels);
            return new Dataset(train, test, "mnist-idx", files);
        }

        string? trainCsv = FindFile(folder, "train.csv");
        if (trainCsv is not null)
        {
            string? testCsv = FindFile(folder, "test.csv");
            var files = new List<string> { trainCsv };
            if (testCsv is not null) files.Add(testCsv);
            VerifyChecksums(folder, files);
            var train = KaggleCsvReader.Read(trainCsv);
            if (!train.HasLabels) throw new DataFormatException(trainCsv, "training data needs a 'label' first column", "line 1");
            var test = testCsv is null ? null : KaggleCsvReader.Read(testCsv);
            if (test is not null && test.PixelCount != train.PixelCount)
                throw new DataFormatException(testCsv!, $"{test.PixelCount} pixels per image but train.csv has {train.PixelCount}", "line 1");
            return new Dataset(train, test, "kaggle-csv", files);
        }

        throw new DataFormatException(folder, "no MNIST IDX files (train-images-idx3-ubyte[.gz], ...) or Kaggle train.csv[.gz] found");
    }

    /// <summary>
    /// Verifies the listed files against the folder's SHA256SUMS (lines "hex  name"), when it exists.
    /// Files the checksum list does not mention are not checked.
    /// </summary>
    public static void VerifyChecksums(string folder, IEnumerable<string> files)
    {
        string sumsPath = Path.Combine(folder, ChecksumFileName);
        if (!File.Exists(sumsPath)) return;
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string line in File.ReadLines(sumsPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[0].Length != 64)
                throw new DataFormatException(sumsPath, "expected '<64 hex digits>  <file name>'", $"line {lineNumber}");
            expected[parts[1].TrimStart('*').Trim()] = parts[0].ToLowerInvariant();
        }
        foreach (string file in files)
        {
            if (!expected.TryGetValue(Path.GetFileName(file), out string? want)) continue;
            using var stream = File.OpenRead(file);
            string actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (actual != want)
                throw new DataFormatException(file, $"SHA-256 {actual} does not match {want} listed in {ChecksumFileName}");
        }
    }

    /// <summary>The first existing file among the base names, each tried plain and with ".gz".</summary>
    private static string? FindFile(string folder, params string[] baseNames)
    {
        foreach (string name in baseNames)
            foreach (string candidate in new[] { name, name + ".gz" })
            {
                string path = Path.Combine(folder, candidate);
                if (File.Exists(path)) return path;
            }
        return null;
    }
}
