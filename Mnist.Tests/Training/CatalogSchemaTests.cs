using Mnist.Core.Training;
using Mnist.Tests.Runner;

namespace Mnist.Tests.Training;

/// <summary>Every shipped trainer declares its hyperparameters once: the schema, the trainer and its saved model agree.</summary>
[TestFixture]
public sealed class CatalogSchemaTests
{
    /// <summary>Overrides that keep each fit to a moment on 200 images.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Quick = new()
    {
        ["logreg"] = new() { ["max-iterations"] = "3", ["l2"] = "0.001" },
        ["linear-svm"] = new() { ["max-epochs"] = "2", ["multiclass"] = "OVR" },
        ["gbdt"] = new() { ["rounds"] = "2", ["min-samples-leaf"] = "5" },
        ["kernel-svm"] = new() { ["gamma"] = "0.02" },
        ["knn"] = new() { ["k"] = "5", ["pca-components"] = "20" },
        ["mlp"] = new() { ["epochs"] = "1" },
        ["cnn"] = new() { ["epochs"] = "1", ["batch-size"] = "64" },
        ["cnn-vgg"] = new() { ["epochs"] = "1", ["batch-size"] = "32" },
        ["cnn-small"] = new() { ["epochs"] = "1", ["schedule"] = "plateau" },
        ["ensemble"] = new() { ["members"] = "logreg(max-iterations=3)+mlp(epochs=1,tta=1)", ["tta"] = "2" },
        ["torch-mlp"] = new() { ["epochs"] = "1", ["optimizer"] = "rmsprop" },
        ["torch-cnn"] = new() { ["epochs"] = "1", ["batch-size"] = "64" },
        ["torch-cnn-vgg"] = new() { ["epochs"] = "1", ["batch-size"] = "32" },
        ["torch-cnn-small"] = new() { ["epochs"] = "1", ["schedule"] = "plateau" },
        ["mlnet-maxent"] = new() { ["max-iterations"] = "5", ["history-size"] = "5" },
        ["mlnet-sdca"] = new() { ["max-iterations"] = "2", ["shuffle"] = "false" },
        ["mlnet-linear-svm"] = new() { ["lambda"] = "0.01" },
        ["mlnet-fasttree"] = new() { ["trees"] = "2", ["leaves"] = "4", ["min-leaf"] = "2" },
        ["mlnet-lightgbm"] = new() { ["iterations"] = "2", ["softmax"] = "true" },
        ["centroid"] = new() { ["max-per-class"] = "7" },
        ["centroid-raw"] = new(),
    };

    /// <summary>Every trainer the runner ships, ours and ML.NET's, and the test trainers.</summary>
    private static TrainerCatalog Catalog() => NearestCentroidTrainer.AddCentroidTrainers(Mnist.Runner.Catalogs.Default());

    private static IEnumerable<string> TrainerNames() => Catalog().Names;

    [Test]
    public void EveryTrainerReportsItsSchemaDefaults()
    {
        var catalog = Catalog();
        Assert.That(catalog.Names, Is.EquivalentTo(Quick.Keys), "every catalog trainer is covered here");
        foreach (var registration in catalog.Registrations)
        {
            var defaults = registration.Hyperparameters.Parameters.ToDictionary(p => p.Name, p => p.Default);
            Assert.That(registration.Create().Hyperparameters, Is.EqualTo(defaults), registration.Name);
        }
    }

    /// <summary>
    /// The contract lets a caller pass a longer buffer than data.Count × 10: every model writes the same leading values as
    /// into one of the exact size and leaves the rest alone (a network with test-time augmentation and an ensemble too).
    /// </summary>
    [TestCaseSource(nameof(TrainerNames))]
    public void ALongerProbabilityBufferGetsTheSameLeadingValues(string name)
    {
        var settings = new Dictionary<string, string>(Quick[name]);
        if (name == "mlp") settings["tta"] = "1";
        var model = Catalog().Create(name, settings).Fit(TestData.Mnist.Train.Take(200).Materialize());
        var test = TestData.Mnist.Test!.Take(30);
        float[] exact = model.PredictProbabilities(test);
        var longer = new float[2 * exact.Length + 7];
        longer.AsSpan().Fill(-1f);
        model.PredictProbabilities(test, longer);
        Assert.That(longer.Take(exact.Length), Is.EqualTo(exact), name);
        Assert.That(longer.Skip(exact.Length), Has.All.EqualTo(-1f), $"{name}: nothing written past data.Count × 10");
    }

    [TestCaseSource(nameof(TrainerNames))]
    public void ASavedModelReadsBackTheHyperparametersWithTheirTypes(string name)
    {
        var catalog = Catalog();
        var trainer = catalog.Create(name, Quick[name]);
        var model = trainer.Fit(TestData.Mnist.Train.Take(200).Materialize());
        string folder = TestData.NewTempFolder();
        try
        {
            string path = Path.Combine(folder, name + ".model");
            ModelFile.Save(model, path);
            var loaded = ModelFile.Load(path, catalog);
            Assert.That(loaded.Hyperparameters, Is.EqualTo(trainer.Hyperparameters));
            foreach (var (key, value) in trainer.Hyperparameters)
                Assert.That(loaded.Hyperparameters[key].GetType(), Is.EqualTo(value.GetType()), $"{name}: {key} keeps its type (ints stay ints)");
            foreach (var (key, text) in Quick[name])
                Assert.That(Hyperparameter.Format(loaded.Hyperparameters[key]), Is.EqualTo(text).IgnoreCase, $"{name}: {key}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
