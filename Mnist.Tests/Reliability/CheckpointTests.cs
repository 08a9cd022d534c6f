using Mnist.Cnn;
using Mnist.Cnn.Callbacks;
using Mnist.Cnn.Training;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Tests.Reliability;

/// <summary>
/// <see cref="TrainingCheckpoint"/> and the neural trainer's checkpointing: a fit cancelled after some
/// epochs and resumed from its checkpoint ends with exactly the weights and history (timings aside) of
/// an uninterrupted fit; corrupt, foreign and mismatched checkpoints are <see cref="DataFormatException"/>s.
/// </summary>
[TestFixture]
public sealed class CheckpointTests : TempFolderFixture
{
    private static readonly Dictionary<string, object> Hyper = new() { ["a"] = 1, ["b"] = "x" };

    [Test]
    public void SaveLoadDeleteRoundTrip()
    {
        var checkpoint = new TrainingCheckpoint(Path.Combine(Folder, "sub", "t.ckpt"), "t", Hyper);
        Assert.That(checkpoint.Exists, Is.False);
        int saved = 0;
        checkpoint.Saved += _ => saved++;
        checkpoint.Save(w => { w.Write(42); w.Write("hello"); });
        Assert.That((checkpoint.Exists, saved), Is.EqualTo((true, 1)));
        Assert.That(checkpoint.Load(r => (r.ReadInt32(), r.ReadString())), Is.EqualTo((42, "hello")));
        checkpoint.Delete();
        Assert.That(checkpoint.Exists, Is.False);
        Assert.That(Directory.GetFiles(Path.Combine(Folder, "sub")), Is.Empty, "no temporary files left behind");
    }

    [Test]
    public void CorruptForeignOrMismatchedCheckpointsAreDataFormatErrors()
    {
        string path = Path.Combine(Folder, "t.ckpt");
        var checkpoint = new TrainingCheckpoint(path, "t", Hyper);
        checkpoint.Save(w => w.Write(42));
        byte[] bytes = File.ReadAllBytes(path);

        void Expect(string what, byte[] content, string message, Func<BinaryReader, int>? read = null, TrainingCheckpoint? other = null)
        {
            File.WriteAllBytes(path, content);
            Assert.That(() => (other ?? checkpoint).Load(read ?? (r => r.ReadInt32())), Throws.TypeOf<DataFormatException>().With.Message.Contain(message), what);
        }

        for (int position = 0; position < bytes.Length; position++)
            Expect($"bit flip at {position}", HostileInput.FlipBit(bytes, position, position % 8), path);
        for (int length = 0; length < bytes.Length; length++)
            Expect($"cut at {length}", bytes[..length], path);
        Expect("a model file", [.. "MNISTMDL"u8, .. bytes[8..]], "not a MnistExperiments checkpoint file");
        Expect("newer", HostileModelFileTests.WithVersion(bytes, 9), "checkpoint format version 9 is newer");
        Expect("reader wants more", bytes, "payload is malformed", r => r.ReadInt32() + r.ReadInt32());
        Expect("reader wants less", bytes, "unread bytes", r => r.ReadByte());
        Expect("reader throws", bytes, "payload is malformed", _ => throw new InvalidOperationException("boom"));
        Expect("another trainer", bytes, "belongs to trainer 't', not 'u'", other: new TrainingCheckpoint(path, "u", Hyper));
        Expect("other hyperparameters", bytes, "other hyperparameters",
            other: new TrainingCheckpoint(path, "t", new Dictionary<string, object> { ["a"] = 2, ["b"] = "x" }));
    }

    private static NeuralTrainer Trainer(string architecture, Dictionary<string, string> parameters) =>
        (NeuralTrainer)new TrainerCatalog().AddNeuralNetworks().Create(architecture, parameters);

    /// <summary>Cancels the fit as soon as epoch <paramref name="epoch"/> is reported done.</summary>
    private sealed class CancelAfterEpoch(int epoch, CancellationTokenSource source) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Epoch?.Epoch == epoch) source.Cancel();
        }
    }

    private static object[] Cases =
    [
        // Dropout, Adam, cosine schedule, best-weights callback (validation).
        new object[] { "mlp", new Dictionary<string, string> { ["epochs"] = "5", ["batch-size"] = "64" }, 2 },
        // Early stopping that fires, plateau schedule and SGD momentum.
        new object[] { "mlp", new Dictionary<string, string> { ["epochs"] = "8", ["batch-size"] = "100", ["patience"] = "1", ["schedule"] = "plateau", ["optimizer"] = "nesterov", ["learning-rate"] = "0.05" }, 1 },
        // BatchNorm running statistics, augmentation, one-cycle.
        new object[] { "cnn", new Dictionary<string, string> { ["epochs"] = "2", ["batch-size"] = "50" }, 1 },
        // The same on LibTorch: the shared loop's checkpoint holds the host's weights, so resuming is as exact.
        new object[] { "torch-cnn", new Dictionary<string, string> { ["epochs"] = "2", ["batch-size"] = "50" }, 1 },
        new object[] { "torch-mlp", new Dictionary<string, string> { ["epochs"] = "3", ["batch-size"] = "100", ["schedule"] = "plateau" }, 2 },
        // The moving average of the weights (and of BatchNorm's statistics) is in the checkpoint.
        new object[] { "cnn", new Dictionary<string, string> { ["epochs"] = "2", ["batch-size"] = "50", ["ema"] = "0.9" }, 1 },
    ];

    [TestCaseSource(nameof(Cases))]
    public void ResumedFitEqualsUninterruptedFit(string architecture, Dictionary<string, string> parameters, int stopAfter)
    {
        bool cnn = architecture.EndsWith("cnn", StringComparison.Ordinal);
        var train = TestData.Mnist.Train.Take(cnn ? 150 : 1500).Materialize();
        var validation = TestData.Mnist.Test!.Take(cnn ? 100 : 300).Materialize();

        var reference = (NeuralModel)Trainer(architecture, parameters).Fit(train, validation);

        var checkpoint = new TrainingCheckpoint(Path.Combine(Folder, architecture + ".ckpt"), architecture, Trainer(architecture, parameters).Hyperparameters);
        using (var cancel = new CancellationTokenSource())
        {
            Assert.That(() => Trainer(architecture, parameters).Fit(train, validation, new CancelAfterEpoch(stopAfter, cancel), cancel.Token, checkpoint),
                Throws.InstanceOf<OperationCanceledException>());
        }
        Assert.That(checkpoint.Exists, Is.True);
        var progress = new List<TrainingProgress>();
        var resumed = (NeuralModel)Trainer(architecture, parameters).Fit(train, validation, new SynchronousProgress(progress.Add), CancellationToken.None, checkpoint);

        Assert.That(progress[0].Stage, Is.EqualTo($"resumed after epoch {stopAfter}/{parameters["epochs"]}"));
        Assert.That(resumed.StopReason, Is.EqualTo(reference.StopReason));
        Assert.That(WithoutTimings(resumed.History!), Is.EqualTo(WithoutTimings(reference.History!)));
        var expected = ModelWeights.Arrays(reference.Network);
        var actual = ModelWeights.Arrays(resumed.Network);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < expected.Length; i++) Assert.That(actual[i], Is.EqualTo(expected[i]), $"tensor {i}");
        Assert.That(resumed.PredictProbabilities(validation), Is.EqualTo(reference.PredictProbabilities(validation)));
    }

    [Test]
    public void CheckpointOfOtherDataIsRefused()
    {
        var parameters = new Dictionary<string, string> { ["epochs"] = "2", ["batch-size"] = "100" };
        var checkpoint = new TrainingCheckpoint(Path.Combine(Folder, "mlp.ckpt"), "mlp", Trainer("mlp", parameters).Hyperparameters);
        using (var cancel = new CancellationTokenSource())
            Assert.That(() => Trainer("mlp", parameters).Fit(TestData.Mnist.Train.Take(300).Materialize(), null, new CancelAfterEpoch(1, cancel), cancel.Token, checkpoint),
                Throws.InstanceOf<OperationCanceledException>());
        Assert.That(() => Trainer("mlp", parameters).Fit(TestData.Mnist.Train.Take(400).Materialize(), null, null, CancellationToken.None, checkpoint),
            Throws.TypeOf<DataFormatException>().With.Message.Contain("saved training on 300 images"));
    }

    private static List<EpochRecord> WithoutTimings(TrainingHistory history) =>
        history.Epochs.Select(e => e with { Seconds = 0, ImagesPerSecond = 0 }).ToList();
}
