using Mnist.Core.Training;

namespace Mnist.Tests.Training;

public class HyperparameterSchemaTests
{
    private enum Kind { Fast, Careful }

    private sealed record Settings
    {
        public double Rate { get; init; } = 0.1;
        public int Epochs { get; init; } = 3;
        public bool Augment { get; init; } = true;
        public Kind Kind { get; init; } = Kind.Fast;
        public int Seed { get; init; } = 42;
    }

    private static readonly HyperparameterSchema<Settings> Schema = new HyperparameterSchema<Settings>(new())
        .Double("rate", o => o.Rate, (o, v) => o with { Rate = v }, "step size", above: 0, max: 1)
        .Int("epochs", o => o.Epochs, (o, v) => o with { Epochs = v }, "passes", min: 1, max: 100)
        .Bool("augment", o => o.Augment, (o, v) => o with { Augment = v }, "augment")
        .Choice("kind", o => o.Kind, (o, v) => o with { Kind = v }, "how", ("fast", Kind.Fast), ("careful", Kind.Careful))
        .Seed(o => o.Seed, (o, v) => o with { Seed = v });

    private static Settings Parse(params (string Name, string Value)[] values) =>
        Schema.Parse(values.ToDictionary(v => v.Name, v => v.Value), "demo");

    [Test]
    public void OverridesAreParsedInvariantlyCaseInsensitivelyOverTheDefaults()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Schema.Parse(null), Is.EqualTo(new Settings()));
            Assert.That(Parse(("RATE", "1e-3"), ("epochs", " 12"), ("augment", "False"), ("kind", "Careful")),
                Is.EqualTo(new Settings { Rate = 0.001, Epochs = 12, Augment = false, Kind = Kind.Careful }));
        });
    }

    [TestCase("epochs", "three", "Hyperparameter 'epochs' must be an integer, not 'three'.")]
    [TestCase("epochs", "99999999999", "Hyperparameter 'epochs' is out of range: '99999999999'.")]
    [TestCase("epochs", "0", "Hyperparameter 'epochs' must be in 1..100, not 0.")]
    [TestCase("rate", "0", "Hyperparameter 'rate' must be in (0, 1], not 0.")]
    [TestCase("rate", "NaN", "Hyperparameter 'rate' must be a finite number, not 'NaN'.")]
    [TestCase("augment", "yes", "Hyperparameter 'augment' must be true or false, not 'yes'.")]
    [TestCase("kind", "slow", "Hyperparameter 'kind' must be 'fast' or 'careful', not 'slow'.")]
    [TestCase("epochz", "3", "Trainer 'demo' has no hyperparameter 'epochz' (it has: rate, epochs, augment, kind, seed).")]
    public void BadNamesAndValuesAreOneClearMessage(string name, string value, string message)
    {
        Assert.That(() => Parse((name, value)), Throws.ArgumentException.With.Message.EqualTo(message));
    }

    [Test]
    public void OptionsBuiltInCodeAreCheckedAgainstTheSameRanges()
    {
        Assert.That(() => Schema.Validate(new Settings { Epochs = 101 }), Throws.ArgumentException.With.Message.Contains("'epochs'"));
        Assert.That(Schema.Validate(new Settings { Epochs = 100 }).Epochs, Is.EqualTo(100));
    }

    [Test]
    public void TheDictionaryKeepsEachValueItsDeclaredType()
    {
        var values = Schema.ToDictionary(new Settings { Kind = Kind.Careful });
        Assert.Multiple(() =>
        {
            Assert.That(values.Keys, Is.EqualTo(new[] { "rate", "epochs", "augment", "kind", "seed" }));
            Assert.That(values["rate"], Is.TypeOf<double>());
            Assert.That(values["epochs"], Is.TypeOf<int>().And.EqualTo(3));
            Assert.That(values["augment"], Is.TypeOf<bool>());
            Assert.That(values["kind"], Is.EqualTo("careful"));
            Assert.That(((IHyperparameterSchema)Schema).Seed!.Name, Is.EqualTo("seed"));
        });
    }

    [Test]
    public void JsonRoundTripsAndRejectsWhatTheDeclarationsDoNotAllow()
    {
        var settings = new Settings { Rate = 0.25, Epochs = 7, Augment = false, Kind = Kind.Careful, Seed = -3 };
        string json = Schema.ToJson(settings);
        Assert.Multiple(() =>
        {
            Assert.That(json, Is.EqualTo("{\"rate\":0.25,\"epochs\":7,\"augment\":false,\"kind\":\"careful\",\"seed\":-3}"));
            Assert.That(Schema.FromJson(json), Is.EqualTo(settings));
            Assert.That(Schema.FromJson("{\"epochs\":9}"), Is.EqualTo(new Settings { Epochs = 9 }), "a missing name keeps its default");
            Assert.That(() => Schema.FromJson("{\"epochs\":2.5}"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'epochs'"));
            Assert.That(() => Schema.FromJson("{\"epochs\":500}"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("1..100"));
            Assert.That(() => Schema.FromJson("{\"kind\":\"slow\"}"), Throws.InstanceOf<InvalidDataException>());
            Assert.That(() => Schema.FromJson("{\"other\":1}"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'other'"));
            Assert.That(() => Schema.FromJson("[1]"), Throws.InstanceOf<InvalidDataException>());
            Assert.That(() => Schema.FromJson("{"), Throws.InstanceOf<InvalidDataException>());
        });
    }

    [Test]
    public void OtherDefaultsKeepTheDeclarations()
    {
        var quick = Schema.WithDefaults(new Settings { Epochs = 1 });
        Assert.Multiple(() =>
        {
            Assert.That(quick.Parse(null).Epochs, Is.EqualTo(1));
            Assert.That(quick.Find("EPOCHS")!.Default, Is.EqualTo(1));
            Assert.That(Schema.Find("epochs")!.Default, Is.EqualTo(3));
            Assert.That(quick.Find("epochs")!.Range, Is.EqualTo("1..100"));
            Assert.That(() => Schema.WithDefaults(new Settings { Epochs = 0 }), Throws.ArgumentException);
            var extended = Schema.Bool("extra", o => o.Augment, (o, v) => o with { Augment = v }, "another");
            Assert.That(extended.Parameters, Has.Count.EqualTo(6));
            Assert.That(Schema.Parameters, Has.Count.EqualTo(5), "declaring returns a new schema; a published one never changes");
        });
    }

    [Test]
    public void DeclarationMistakesAreCaughtWhenTheSchemaIsBuilt()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new HyperparameterSchema<Settings>(new()).Int("epochs", o => o.Epochs, (o, v) => o with { Epochs = v }, "", min: 5),
                Throws.ArgumentException, "the default is out of range");
            Assert.That(() => Schema.Int("rate", o => o.Epochs, (o, v) => o with { Epochs = v }, ""), Throws.ArgumentException, "declared twice");
            Assert.That(() => new HyperparameterSchema<Settings>(new()).Int("a=b", o => o.Epochs, (o, v) => o with { Epochs = v }, ""), Throws.ArgumentException);
        });
    }

    [Test]
    public void CatalogFindsByNameAndRejectsUnknownAndDuplicateNames()
    {
        var registration = TrainerRegistration.For("demo", "demo trainer", Schema, _ => throw new NotSupportedException(), _ => throw new NotSupportedException());
        var catalog = new TrainerCatalog().Add(registration);
        Assert.Multiple(() =>
        {
            Assert.That(catalog.Find("DEMO"), Is.SameAs(registration));
            Assert.That(catalog.Find("demo").Hyperparameters.Find("Rate")!.Range, Is.EqualTo("(0, 1]"));
            Assert.That(() => catalog.Find("nope"), Throws.ArgumentException.With.Message.Contain("Unknown trainer 'nope'. Known trainers: demo."));
            Assert.That(() => catalog.Add(registration), Throws.ArgumentException);
            Assert.That(() => catalog.Create("demo", new Dictionary<string, string> { ["epochz"] = "1" }),
                Throws.ArgumentException.With.Message.StartWith("Trainer 'demo' has no hyperparameter 'epochz'"), "checked before the factory runs");
        });
    }
}
