using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.Common;

/// <summary>
/// What every baseline trainer shares: its options, validated once through its declared schema, its name, and a
/// <see cref="Fit"/> that checks the arguments (and <see cref="CheckImageSize"/>) before the trainer's own work.
/// </summary>
/// <typeparam name="TOptions">The trainer's options, declared by its schema.</typeparam>
public abstract class SchemaTrainer<TOptions> : ITrainer where TOptions : class
{
    private readonly HyperparameterSchema<TOptions> _schema;

    private protected SchemaTrainer(string name, HyperparameterSchema<TOptions> schema, TOptions options)
    {
        (Name, _schema) = (name, schema);
        Options = schema.Validate(options);
    }

    /// <inheritdoc />
    public string Name { get; }
    /// <summary>The hyperparameters, validated against the schema.</summary>
    public TOptions Options { get; }
    /// <inheritdoc />
    public IReadOnlyDictionary<string, object> Hyperparameters => _schema.ToDictionary(Options);

    /// <inheritdoc />
    public virtual void CheckImageSize(int height, int width) { }

    /// <inheritdoc />
    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        validation = FitArguments.Check(train, validation);
        CheckImageSize(train.Height, train.Width);
        cancellationToken.ThrowIfCancellationRequested();
        return FitChecked(train, validation, progress, cancellationToken);
    }

    /// <summary>
    /// The history of a trainer without epochs (k-NN, kernel-svm): one record for the whole fit of
    /// <paramref name="images"/> images in <paramref name="seconds"/>, with the validation accuracy when scored.
    /// </summary>
    private protected static TrainingHistory SingleFitHistory(int images, double seconds, double? validationAccuracy = null)
    {
        var history = new TrainingHistory();
        history.Add(new EpochRecord(1, 0, null, null, validationAccuracy, 0, seconds, seconds > 0 ? images / seconds : 0));
        return history;
    }

    /// <summary>The fit proper: <paramref name="train"/> is labelled and not empty; <paramref name="validation"/> is null or labelled, not empty and of the same image size.</summary>
    private protected abstract ITrainedModel FitChecked(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken);
}
