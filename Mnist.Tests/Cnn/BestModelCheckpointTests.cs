using Mnist.Cnn;
using Mnist.Cnn.Backends.Own;
using Mnist.Cnn.Callbacks;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Optimizers;
using Mnist.Core.Training;

namespace Mnist.Tests.Cnn;

public class BestModelCheckpointTests
{
    /// <summary>A tiny network whose first weight is set to the epoch number, so the restored weights say which epoch was kept.</summary>
    private static TrainingState State() =>
        new(OwnBackend.Build(Architectures.Mlp(new TensorShape(2, 2, 1)), seed: 1), Optimizer.Create(OptimizerKind.Adam, 1e-3, 0.9, 0));

    private static void EndEpoch(Callback callback, TrainingState state, int epoch, double validationAccuracy, double validationLoss)
    {
        state.Model.Parameters.First().Value[0] = epoch;
        callback.OnEpochEnd(state, new EpochRecord(epoch, 0.1, 0.99, validationLoss, validationAccuracy, 1e-3, 1, 1));
    }

    private static float KeptEpoch(Callback callback, TrainingState state)
    {
        callback.OnTrainEnd(state);
        return state.Model.Parameters.First().Value[0];
    }

    [Test]
    public void AnAccuracyTieGoesToTheLowerValidationLoss()
    {
        var state = State();
        var best = new BestModelCheckpoint();
        EndEpoch(best, state, 1, 0.990, 0.050);
        EndEpoch(best, state, 2, 0.995, 0.040); // better accuracy
        EndEpoch(best, state, 3, 0.995, 0.030); // tie, lower loss: kept
        EndEpoch(best, state, 4, 0.995, 0.035); // tie, higher loss
        EndEpoch(best, state, 5, 0.990, 0.010); // lower accuracy, however low its loss
        Assert.That(KeptEpoch(best, state), Is.EqualTo(3));
    }

    [Test]
    public void AnEqualLossKeepsTheEarlierEpoch()
    {
        var state = State();
        var best = new BestModelCheckpoint();
        EndEpoch(best, state, 1, 0.995, 0.030);
        EndEpoch(best, state, 2, 0.995, 0.030);
        Assert.That(KeptEpoch(best, state), Is.EqualTo(1));
    }

    [Test]
    public void ACheckpointKeepsTheBestEpochsLossForLaterTies()
    {
        var state = State();
        var before = new BestModelCheckpoint();
        EndEpoch(before, state, 1, 0.995, 0.030);
        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) before.SaveState(writer);

        saved.Position = 0;
        var resumed = new BestModelCheckpoint();
        using (var reader = new BinaryReader(saved)) resumed.LoadState(reader, state);
        EndEpoch(resumed, state, 2, 0.995, 0.031); // a tie that loses only against the saved loss
        Assert.That(KeptEpoch(resumed, state), Is.EqualTo(1));
    }
}
