using Mnist.Core.Data;

namespace Mnist.Tests.Baselines;

/// <summary>The real MNIST files in the repository's data/ folder, loaded once for the baseline tests.</summary>
internal static class BaselineTestData
{
    private static readonly Lazy<Dataset> Dataset = new(() => DatasetLoader.Load(DataFolder()));

    /// <summary>The first 5000 training images (contiguous).</summary>
    public static DigitDataView SmallTrain => Dataset.Value.Train.Take(5000).Materialize();

    /// <summary>The first 2000 test images (contiguous).</summary>
    public static DigitDataView SmallTest => Dataset.Value.Test!.Take(2000).Materialize();

    /// <summary>The full 60k training set.</summary>
    public static DigitDataView FullTrain => Dataset.Value.Train;

    /// <summary>The full 10k test set.</summary>
    public static DigitDataView FullTest => Dataset.Value.Test!;

    /// <summary>Walks up from the test directory to the folder holding MnistExperiments.sln, then data/.</summary>
    public static string DataFolder()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MnistExperiments.sln")))
            directory = directory.Parent;
        if (directory is null) throw new DirectoryNotFoundException("No folder containing MnistExperiments.sln above " + TestContext.CurrentContext.TestDirectory);
        return Path.Combine(directory.FullName, "data");
    }

    /// <summary>A small random labelled view: <paramref name="count"/> images of height×width pixels in [0,1].</summary>
    public static DigitDataView Random(int count, int height, int width, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[count * height * width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        var labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte)(i % DigitDataView.ClassCount);
        random.Shuffle(labels);
        return new DigitDataView(height, width, pixels, labels);
    }
}
