using Mnist.Baselines;
using Mnist.Core.Data;
using Mnist.Core.Training;

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

    /// <summary>
    /// Saves <paramref name="model"/> as a model file in a temporary folder and loads it back with the baselines'
    /// catalog: the loaded model and the file's size. The folder is deleted before returning.
    /// </summary>
    public static (ITrainedModel Loaded, long FileBytes) SaveAndLoad(ITrainedModel model)
    {
        string folder = TestData.NewTempFolder();
        try
        {
            string path = Path.Combine(folder, model.TrainerName + ".model");
            ModelFile.Save(model, path);
            return (ModelFile.Load(path, new TrainerCatalog().AddBaselines()), new FileInfo(path).Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The model's payload as <see cref="ITrainedModel.WritePayload"/> writes it.</summary>
    public static byte[] Payload(ITrainedModel model)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) model.WritePayload(writer);
        return stream.ToArray();
    }

    /// <summary>A string as BinaryWriter writes it in a payload (7-bit length prefix, UTF-8).</summary>
    public static byte[] PayloadString(string text)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) writer.Write(text);
        return stream.ToArray();
    }
}
