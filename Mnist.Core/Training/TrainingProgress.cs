namespace Mnist.Core.Training;

/// <summary>A progress report from a trainer: how far it is (0..1), what it is doing, and the latest epoch.</summary>
/// <param name="Fraction">Completed fraction of the whole fit, 0..1.</param>
/// <param name="Stage">Short description of the current step, e.g. "epoch 3/12" or "L-BFGS iteration 40".</param>
/// <param name="Epoch">The epoch just finished, when the report marks the end of one.</param>
public sealed record TrainingProgress(double Fraction, string Stage, EpochRecord? Epoch = null);

/// <summary>Figures for one epoch (or optimizer iteration) of training.</summary>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    double? TrainAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double LearningRate,
    double Seconds,
    double ImagesPerSecond);

/// <summary>Keras' History: the per-epoch records of one fit, in order.</summary>
public sealed class TrainingHistory
{
    private readonly List<EpochRecord> _epochs = [];

    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    public void Add(EpochRecord record) => _epochs.Add(record);
}
