namespace Mnist.Core.Training;

/// <summary>A progress report from a trainer: how far it is (0..1), what it is doing, and the latest epoch.</summary>
/// <param name="Fraction">Completed fraction of the whole fit, 0..1.</param>
/// <param name="Stage">Short description of the current step, e.g. "epoch 3/12" or "L-BFGS iteration 40".</param>
/// <param name="Epoch">The epoch (or optimizer iteration) just finished, when the report marks the end of one.</param>
/// <param name="Milestone">
/// A point worth a line of its own in any log: a whole epoch done, after its checkpoint (when the fit keeps
/// one) is saved. Displays may thin out other reports, never these.
/// </param>
public sealed record TrainingProgress(double Fraction, string Stage, EpochRecord? Epoch = null, bool Milestone = false);

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

    /// <summary>The epochs recorded so far, in order.</summary>
    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    /// <summary>Appends one epoch's record.</summary>
    public void Add(EpochRecord record) => _epochs.Add(record);
}
