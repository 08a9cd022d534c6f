using System.Globalization;
using Mnist.Baselines;
using Mnist.Baselines.LinearSvm;
using Mnist.Baselines.LogisticRegression;
using Mnist.Core.Training;

namespace Mnist.Tests.Baselines;

[TestFixture]
public sealed class BaselinesCatalogTests
{
    [Test]
    public void RegistersEveryBaselineWithADescription()
    {
        var catalog = new TrainerCatalog().AddBaselines();
        Assert.That(catalog.Names, Is.EqualTo(new[] { "logreg", "linear-svm", "gbdt", "kernel-svm", "knn" }));
        Assert.That(catalog.Registrations.Select(r => r.Description), Has.All.Not.Empty);
        Assert.That(catalog.Create("logreg"), Is.TypeOf<LogisticRegressionTrainer>());
        Assert.That(catalog.Create("linear-svm"), Is.TypeOf<LinearSvmTrainer>());
    }

    [TestCase("logreg")]
    [TestCase("linear-svm")]
    [TestCase("kernel-svm")]
    [TestCase("knn")]
    public void HyperparameterNamesRoundTripThroughTrainerParameters(string name)
    {
        // Every reported hyperparameter name is accepted as an override and reported back unchanged.
        var catalog = new TrainerCatalog().AddBaselines();
        var defaults = catalog.Create(name).Hyperparameters;
        var overrides = defaults.ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture)!);

        var trainer = catalog.Create(name, overrides);

        Assert.That(trainer.Name, Is.EqualTo(name));
        Assert.That(trainer.Hyperparameters, Is.EquivalentTo(defaults));
    }

    [Test]
    public void OverridesAreApplied()
    {
        var catalog = new TrainerCatalog().AddBaselines();
        var logreg = catalog.Create("logreg", new Dictionary<string, string> { ["l2"] = "0.001", ["max-iterations"] = "7" });
        var svm = catalog.Create("linear-svm", new Dictionary<string, string> { ["c"] = "2.5", ["shrinking"] = "false" });

        Assert.That(logreg.Hyperparameters["l2"], Is.EqualTo(0.001));
        Assert.That(logreg.Hyperparameters["max-iterations"], Is.EqualTo(7));
        Assert.That(svm.Hyperparameters["c"], Is.EqualTo(2.5));
        Assert.That(svm.Hyperparameters["shrinking"], Is.EqualTo(false));
    }

    [TestCase("logreg", "lambda", "1", true)]
    [TestCase("linear-svm", "C-value", "1", true)]
    [TestCase("logreg", "l2", "-1", true)]
    [TestCase("logreg", "max-iterations", "0", true)]
    [TestCase("linear-svm", "c", "0", true)]
    [TestCase("linear-svm", "tolerance", "abc", true)]
    [TestCase("kernel-svm", "gamma", "0.05", false)]
    [TestCase("kernel-svm", "C", "10", false)]
    [TestCase("kernel-svm", "components", "4000", true)]
    [TestCase("kernel-svm", "gamma", "0", true)]
    [TestCase("kernel-svm", "c", "-1", true)]
    [TestCase("kernel-svm", "tolerance", "abc", true)]
    [TestCase("kernel-svm", "max-iterations", "0", true)]
    [TestCase("knn", "K", "3", false)]
    [TestCase("knn", "neighbours", "3", true)]
    [TestCase("knn", "k", "0", true)]
    [TestCase("knn", "weighting", "gaussian", true)]
    [TestCase("knn", "pca-components", "-1", true)]
    [TestCase("gbdt", "max-depth", "6", true)]
    [TestCase("gbdt", "feature-fraction", "0", true)]
    [TestCase("gbdt", "max-leaves", "1", true)]
    public void HyperparametersAreValidatedByName(string trainer, string name, string value, bool rejected)
    {
        var catalog = new TrainerCatalog().AddBaselines();
        var create = () => catalog.Create(trainer, new Dictionary<string, string> { [name] = value });
        if (rejected) Assert.That(create, Throws.ArgumentException.With.Message.Contains(name));
        else
        {
            var created = create();
            Assert.That(created.Name, Is.EqualTo(trainer));
            var set = created.Hyperparameters.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));
            Assert.That(Hyperparameter.Format(set.Value), Is.EqualTo(value), "the accepted value is the trainer's");
        }
    }
}
