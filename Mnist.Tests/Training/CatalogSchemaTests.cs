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
        ["cnn-small"] = new() { ["epochs"] = "1", ["schedule"] = "plateau" },
        ["centroid"] = new() { ["max-per-class"] = "7" },
        ["centroid-raw"] = new(),
    };

    private static IEnumerable<string> TrainerNames() => TestCatalogs.WithReal().Names;

    [Test]
    public void EveryTrainerReportsItsSchemaDefaults()
    {
        var catalog = TestCatalogs.WithReal();
        Assert.That(catalog.Names, Is.EquivalentTo(Quick.Keys), "every catalog trainer is covered here");
        foreach (var registration in catalog.Registrations)
        {
            var defaults = registration.Hyperparameters.Parameters.ToDictionary(p => p.Name, p => p.Default);
            Assert.That(registration.Create().Hyperparameters, Is.EqualTo(defaults), registration.Name);
        }
    }

    [TestCaseSource(nameof(TrainerNames))]
    public void ASavedModelReadsBackTheHyperparametersWithTheirTypes(string name)
    {
        var catalog = TestCatalogs.WithReal();
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
