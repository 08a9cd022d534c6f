using Mnist.Core.Training;

namespace Mnist.Tests.Training;

public class TrainerCatalogTests
{
    private sealed record Settings(double Rate, int Epochs, bool Augment, string Optimizer);

    private static Settings Read(TrainerParameters p) =>
        new(p.Double("rate", 0.1), p.Int("epochs", 3), p.Bool("augment", true), p.String("optimizer", "adam"));

    [Test]
    public void ParametersUseDefaultsAndParseOverridesInvariantly()
    {
        var defaults = Read(TrainerParameters.Empty);
        var given = Read(new TrainerParameters(new Dictionary<string, string> { ["RATE"] = "1e-3", ["epochs"] = " 12", ["augment"] = "false", ["optimizer"] = "sgd" }));
        Assert.Multiple(() =>
        {
            Assert.That(defaults, Is.EqualTo(new Settings(0.1, 3, true, "adam")));
            Assert.That(given, Is.EqualTo(new Settings(0.001, 12, false, "sgd")));
        });
    }

    [Test]
    public void MalformedAndUnknownParametersAreRejected()
    {
        var bad = new TrainerParameters(new Dictionary<string, string> { ["epochs"] = "three" });
        Assert.That(() => Read(bad), Throws.ArgumentException.With.Message.EqualTo("Hyperparameter 'epochs' must be an integer, not 'three'."));
        var unknown = new TrainerParameters(new Dictionary<string, string> { ["epochz"] = "3" });
        Read(unknown);
        Assert.That(() => unknown.ThrowIfUnused("demo"), Throws.ArgumentException.With.Message.EqualTo("Trainer 'demo' has no hyperparameter 'epochz'."));
    }

    [Test]
    public void CatalogFindsByNameAndRejectsUnknownAndDuplicateNames()
    {
        var registration = new TrainerRegistration("demo", "demo trainer", _ => throw new NotSupportedException(), _ => throw new NotSupportedException());
        var catalog = new TrainerCatalog().Add(registration);
        Assert.Multiple(() =>
        {
            Assert.That(catalog.Find("DEMO"), Is.SameAs(registration));
            Assert.That(() => catalog.Find("nope"), Throws.ArgumentException.With.Message.Contain("Unknown trainer 'nope'. Known trainers: demo."));
            Assert.That(() => catalog.Add(registration), Throws.ArgumentException);
        });
    }
}
