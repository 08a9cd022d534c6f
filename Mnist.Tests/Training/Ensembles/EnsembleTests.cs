using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Numerics;
using Mnist.Core.Training;
using Mnist.Core.Training.Ensembles;

namespace Mnist.Tests.Training.Ensembles;

/// <summary>The <c>ensemble</c> trainer: soft vote, member list syntax, derived seeds, one model file, resume by member.</summary>
[TestFixture]
public sealed class EnsembleTests
{
    private static TrainerCatalog Catalog() => Mnist.Runner.Catalogs.Default();

    private static EnsembleTrainer Ensemble(string members, int seed = 42, int tta = 0) =>
        (EnsembleTrainer)Catalog().Create(EnsembleCatalog.Name, new Dictionary<string, string>
        {
            ["members"] = members, ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture), ["tta"] = tta.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private static DigitDataView Train(int count) => TestData.Mnist.Train.Take(count).Materialize();

    [Test]
    public void SoftVoteAveragesHandMadeProbabilities()
    {
        // Two images, three members. Image 0: two members lean weakly to 2, one is sure of 7: the mean picks 7.
        // Image 1: a majority vote would say 3 (two of three), the probabilities say 5.
        float[] Row(params (int Class, float P)[] cells)
        {
            var row = new float[DigitDataView.ClassCount];
            foreach (var (c, p) in cells) row[c] = p;
            return row;
        }
        float[] Member(float[] image0, float[] image1) => [.. image0, .. image1];
        var a = Member(Row((2, 0.4f), (7, 0.3f), (1, 0.3f)), Row((3, 0.5f), (5, 0.45f), (0, 0.05f)));
        var b = Member(Row((2, 0.4f), (7, 0.35f), (4, 0.25f)), Row((3, 0.5f), (5, 0.5f)));
        var c = Member(Row((7, 0.95f), (2, 0.05f)), Row((5, 0.9f), (3, 0.1f)));
        var average = new float[2 * DigitDataView.ClassCount];
        SoftVote.Average([a, b, c], average);

        Assert.That(Kernels.ArgMaxRows(average, DigitDataView.ClassCount), Is.EqualTo(new[] { 7, 5 }));
        Assert.That(average[7], Is.EqualTo((0.3f + 0.35f + 0.95f) / 3).Within(1e-6));
        Assert.That(average[DigitDataView.ClassCount + 3], Is.EqualTo((0.5f + 0.5f + 0.1f) / 3).Within(1e-6));
        Assert.That(average.Take(DigitDataView.ClassCount).Sum(), Is.EqualTo(1f).Within(1e-6));

        var model = new EnsembleModel(EnsembleCatalog.Name, new EnsembleOptions(), [new FixedModel(a), new FixedModel(b), new FixedModel(c)]);
        var two = TestData.Mnist.Test!.Take(2);
        Assert.That(model.Predict(two), Is.EqualTo(new[] { 7, 5 }));
        Assert.That(() => SoftVote.Average([a, new float[3]], average), Throws.ArgumentException);
    }

    [Test]
    public void MemberListSyntax()
    {
        var catalog = Catalog();
        var members = EnsembleMembers.Parse(" cnn(epochs=3, batch-size = 64)*2 + KNN(k=5),logreg ", catalog, EnsembleCatalog.Name);
        Assert.That(members.Select(m => m.Trainer), Is.EqualTo(new[] { "cnn", "cnn", "knn", "logreg" }));
        Assert.That(members[0].Overrides, Is.EquivalentTo(new Dictionary<string, string> { ["epochs"] = "3", ["batch-size"] = "64" }));
        Assert.That(members[2].Overrides, Is.EquivalentTo(new Dictionary<string, string> { ["k"] = "5" }));
        Assert.That(members[3].Overrides, Is.Empty);
        Assert.That(EnsembleMembers.Parse("cnn*5", catalog, EnsembleCatalog.Name), Has.Count.EqualTo(5));

        foreach (var (text, message) in new[]
        {
            ("cnn(epochs=3", "expected ')'"), ("cnn*0", "a count in 1..100"), ("cnn*x", "a count"), ("nope", "unknown trainer 'nope'"),
            ("ensemble", "cannot be a member"), ("cnn,,knn", "a trainer name"), ("cnn(epochs)", "name=value"), ("cnn(epochs=1) knn", "',' or '+'"),
            ("cnn*60,knn*41", "more than 100 members"),
        })
            Assert.That(() => EnsembleMembers.Parse(text, catalog, EnsembleCatalog.Name), Throws.ArgumentException.With.Message.Contain(message), text);
        Assert.That(() => Ensemble("  "), Throws.ArgumentException.With.Message.EqualTo("Hyperparameter 'members' must be non-empty text."));
        Assert.That(() => Ensemble("mlp(epochs=0)"), Throws.ArgumentException.With.Message.Contain("ensemble member 1 (mlp)").And.Message.Contain("epochs"));
        Assert.That(() => Ensemble("logreg(depth=3)"), Throws.ArgumentException.With.Message.Contain("ensemble member 1 (logreg)").And.Message.Contain("'depth'"));
    }

    [Test]
    public void EachMemberGetsItsOwnDerivedSeedAndTheEnsemblesTta()
    {
        var ensemble = Ensemble("mlp*5,logreg,cnn-small(seed=9,tta=1)", seed: 7, tta: 3);
        var seeds = ensemble.Members.Take(5).Select(m => (int)m.Hyperparameters["seed"]).ToList();
        Assert.That(seeds, Is.EqualTo(Enumerable.Range(0, 5).Select(i => Seeds.Derive(7, i))));
        Assert.That(seeds, Is.Unique);
        Assert.That(seeds, Does.Not.Contain(7));
        Assert.That(ensemble.Members[5].Hyperparameters["seed"], Is.EqualTo(Seeds.Derive(7, 5)), "logreg's seed too");
        Assert.That(ensemble.Members[6].Hyperparameters["seed"], Is.EqualTo(9), "a seed the member sets itself is kept");
        Assert.That(ensemble.Members.Take(5).Select(m => m.Hyperparameters["tta"]), Has.All.EqualTo(3), "the ensemble's tta reaches its neural members");
        Assert.That(ensemble.Members[5].Hyperparameters.ContainsKey("tta"), Is.False);
        Assert.That(ensemble.Members[6].Hyperparameters["tta"], Is.EqualTo(1), "a member's own tta wins");
        Assert.That(Ensemble("mlp*2", seed: 8).Members.Select(m => m.Hyperparameters["seed"]), Is.EqualTo(new[] { Seeds.Derive(8, 0), Seeds.Derive(8, 1) }));
        Assert.That(Ensemble("mlp", tta: 0).Members[0].Hyperparameters["tta"], Is.EqualTo(0));
    }

    [Test]
    public void OneModelFileHoldsEveryMemberAndPredictsTheSame()
    {
        var ensemble = Ensemble("logreg(max-iterations=5),mlp(epochs=1,batch-size=50,tta=2),knn(k=5)");
        var model = ensemble.Fit(Train(300));
        var test = TestData.Mnist.Test!.Take(300);
        string folder = TestData.NewTempFolder();
        try
        {
            string path = Path.Combine(folder, "ensemble.model");
            ModelFile.Save(model, path);
            var loaded = ModelFile.Load(path, Catalog());
            Assert.That(loaded, Is.TypeOf<EnsembleModel>());
            Assert.That(loaded.Members.Select(m => m.TrainerName), Is.EqualTo(new[] { "logreg", "mlp", "knn" }));
            Assert.That(loaded.Members.Select(m => m.Hyperparameters), Is.EqualTo(model.Members.Select(m => m.Hyperparameters)));
            Assert.That(loaded.Hyperparameters, Is.EqualTo(model.Hyperparameters));
            Assert.That(loaded.PredictProbabilities(test), Is.EqualTo(model.PredictProbabilities(test)), "bit for bit");
            Assert.That(loaded.Engine, Is.EqualTo("own"));
            Assert.That(loaded.HasCalibratedProbabilities, Is.False, "knn's votes are not calibrated, so neither is their mean");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void TtaSetAfterFitReachesTheNetworkMembersOnly()
    {
        var model = Ensemble("logreg(max-iterations=5),mlp(epochs=1,batch-size=50)").Fit(Train(300));
        var test = TestData.Mnist.Test!.Take(200);
        var augmented = model.WithTestTimeAugmentation(2)!;

        Assert.That(augmented.Members[0], Is.SameAs(model.Members[0]), "logreg has no tta and stays as it is");
        Assert.That(augmented.Members[1].Hyperparameters["tta"], Is.EqualTo(2));
        var expected = new float[test.Count * 10];
        SoftVote.Average([model.Members[0].PredictProbabilities(test), model.Members[1].WithTestTimeAugmentation(2)!.PredictProbabilities(test)], expected);
        Assert.That(augmented.PredictProbabilities(test), Is.EqualTo(expected));
        Assert.That(augmented.PredictProbabilities(test), Is.Not.EqualTo(model.PredictProbabilities(test)));
        Assert.That(Ensemble("logreg(max-iterations=5),knn(k=3)").Fit(Train(100)).WithTestTimeAugmentation(2), Is.Null, "no member has tta");
    }

    [Test]
    public void ResumeSkipsFinishedMembersAndContinuesTheOneInProgress()
    {
        const string members = "mlp(epochs=2,batch-size=64)*3";
        var train = Train(400);
        var validation = TestData.Mnist.Train.Subset(Enumerable.Range(50_000, 200).ToArray());
        var test = TestData.Mnist.Test!.Take(300);
        var uninterrupted = Ensemble(members).Fit(train, validation);
        string folder = TestData.NewTempFolder();
        try
        {
            // Stop once member 1 is done and member 2 has finished its first epoch (its own checkpoint saved).
            var ensemble = Ensemble(members);
            var checkpoint = new TrainingCheckpoint(Path.Combine(folder, "ensemble.ckpt"), ensemble.Name, ensemble.Hyperparameters);
            using var cancel = new CancellationTokenSource();
            var progress = new Recorder(p => { if (p.Stage.StartsWith("member 2/3 (mlp): epoch 1/2 done", StringComparison.Ordinal)) cancel.Cancel(); });
            Assert.That(() => ensemble.Fit(train, validation, progress, cancel.Token, checkpoint), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(checkpoint.Exists, Is.True);
            Assert.That(File.Exists(Path.Combine(folder, "ensemble.member-2.ckpt")), Is.True, "member 2's own checkpoint");
            Assert.That(File.Exists(Path.Combine(folder, "ensemble.member-1.ckpt")), Is.False, "a finished member's checkpoint is removed");

            var resumed = new Recorder(_ => { });
            var model = Ensemble(members).Fit(train, validation, resumed, CancellationToken.None, checkpoint);
            var fitted = resumed.Stages.Where(s => s.Contains("): epoch", StringComparison.Ordinal)).Select(s => s[..s.IndexOf(':')]).Distinct().ToList();
            Assert.That(fitted, Is.EqualTo(new[] { "member 2/3 (mlp)", "member 3/3 (mlp)" }), "member 1 is not fitted again");
            Assert.That(resumed.Stages, Has.Some.StartsWith("resumed: 1/3 members finished"));
            Assert.That(resumed.Stages, Has.Some.EqualTo("member 2/3 (mlp): resumed after epoch 1/2"));
            Assert.That(resumed.Stages.Count(s => s.StartsWith("member 2/3 (mlp): epoch 1/2", StringComparison.Ordinal)), Is.Zero, "member 2 continues at epoch 2");
            Assert.That(model.PredictProbabilities(test), Is.EqualTo(uninterrupted.PredictProbabilities(test)), "the resumed ensemble is the uninterrupted one");
            Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EqualTo(new[] { "ensemble.ckpt" }), "only the ensemble's checkpoint is left, for the runner to delete");

            // A checkpoint of another member list is refused.
            var other = Ensemble("mlp(epochs=2,batch-size=64)*2");
            var foreign = new TrainingCheckpoint(checkpoint.Path, other.Name, other.Hyperparameters);
            Assert.That(() => other.Fit(train, validation, null, CancellationToken.None, foreign), Throws.TypeOf<DataFormatException>().With.Message.Contain("other hyperparameters"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ASmallEnsembleBeatsOrEqualsItsBestMember()
    {
        var train = Train(2000);
        var test = TestData.Mnist.Test!.Take(2000);
        var model = Ensemble("knn,mlp(epochs=10,batch-size=64),mlp(epochs=10,batch-size=64)").Fit(train);
        double ensemble = Evaluator.Evaluate(model, test).Accuracy;
        var members = model.Members.Select(m => Evaluator.Evaluate(m, test).Accuracy).ToList();
        TestContext.Out.WriteLine($"ensemble {ensemble:P2}; members {string.Join(", ", members.Select(a => a.ToString("P2")))}");
        Assert.That(ensemble, Is.GreaterThanOrEqualTo(members.Max()));
    }

    [Test]
    public void AMembersValidationAccuracyIsComputedOnlyForAProgressLine()
    {
        var predictions = new List<int>();
        var catalog = new TrainerCatalog().Add(SeedOnlyTrainer.Registration("counting", onPredict: predictions.Add)).AddEnsemble();
        var ensemble = (EnsembleTrainer)catalog.Create(EnsembleCatalog.Name, new Dictionary<string, string> { ["members"] = "counting*2" });
        var train = Train(20);
        var validation = TestData.Mnist.Test!.Take(7);

        ensemble.Fit(train, validation);
        Assert.That(predictions, Is.Empty, "no progress listener: nothing predicted during the fit");

        var progress = new Recorder(_ => { });
        ensemble.Fit(train, validation, progress);
        Assert.That(predictions, Is.EqualTo(new[] { 7, 7 }), "one validation prediction per member, for its line");
        Assert.That(progress.Stages, Has.Some.StartsWith("member 2/2 (counting) done, validation "));
    }

    [Test]
    public void TheReportPredictsEachMemberOncePerSetAndCombinesThose()
    {
        var predictions = new List<int>();
        var catalog = new TrainerCatalog().Add(SeedOnlyTrainer.Registration("counting", onPredict: predictions.Add)).AddEnsemble();
        var ensemble = (EnsembleTrainer)catalog.Create(EnsembleCatalog.Name, new Dictionary<string, string> { ["members"] = "counting*3" });
        DigitDataView train = Train(20), validation = TestData.Mnist.Test!.Take(7), test = TestData.Mnist.Test!.Take(5);
        var model = ensemble.Fit(train, validation);

        var fitted = Mnist.Runner.Common.ModelFitting.Evaluate(model, EnsembleCatalog.Name, 1.0, train, validation, test, CancellationToken.None);
        Assert.That(predictions.Order(), Is.EqualTo(new[] { 5, 5, 5, 7, 7, 7, 20, 20, 20 }), "each member predicts train, validation and test once");

        Assert.Multiple(() =>
        {
            Assert.That(fitted.Result.TestAccuracy, Is.EqualTo(Evaluator.Evaluate(model, test).Accuracy));
            Assert.That(fitted.Result.ValidationAccuracy, Is.EqualTo(Evaluator.Evaluate(model, validation).Accuracy));
            Assert.That(fitted.Result.TrainAccuracy, Is.EqualTo(Evaluator.Evaluate(model, train).Accuracy));
            Assert.That(fitted.Result.Members!.Select(m => m.TestAccuracy), Is.EqualTo(model.Members.Select(m => (double?)Evaluator.Evaluate(m, test).Accuracy)));
            Assert.That(fitted.Result.Members!.Select(m => m.ValidationAccuracy), Is.EqualTo(model.Members.Select(m => (double?)Evaluator.Evaluate(m, validation).Accuracy)));
        });
    }

    /// <summary>A model that answers the same probabilities for any data (as many rows as it holds).</summary>
    private sealed class FixedModel(float[] probabilities) : ITrainedModel
    {
        public string TrainerName => "fixed";
        public IReadOnlyDictionary<string, object> Hyperparameters { get; } = new Dictionary<string, object>();
        public void PredictProbabilities(DigitDataView data, Span<float> destination) => probabilities.CopyTo(destination);
        public void WritePayload(BinaryWriter writer) { }
    }

    /// <summary>Records every progress report, synchronously.</summary>
    private sealed class Recorder(Action<TrainingProgress> onReport) : IProgress<TrainingProgress>
    {
        public List<string> Stages { get; } = [];

        public void Report(TrainingProgress value)
        {
            Stages.Add(value.Stage);
            onReport(value);
        }
    }
}
