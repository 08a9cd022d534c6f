using Mnist.Core.Data;

namespace Mnist.Core.Training;

/// <summary>
/// A learning algorithm with its hyperparameters (scikit-learn's estimator): <see cref="Fit"/> trains
/// on a data view and returns a separate <see cref="ITrainedModel"/>; the trainer itself is unchanged
/// and can be fitted again.
/// </summary>
public interface ITrainer
{
    /// <summary>The catalog name, e.g. "logreg".</summary>
    string Name { get; }

    /// <summary>The resolved hyperparameters, keyed by the names that <c>--param</c> and results.json use.</summary>
    IReadOnlyDictionary<string, object> Hyperparameters { get; }

    /// <summary>
    /// Throws <see cref="IncompatibleDataException"/> when this trainer, with its hyperparameters, cannot fit
    /// images of <paramref name="height"/> × <paramref name="width"/> pixels (say, too small for a network's
    /// pooling layers). The runner asks every chosen trainer before it trains any; <see cref="Fit"/> checks the same.
    /// </summary>
    void CheckImageSize(int height, int width) { }

    /// <summary>
    /// Trains on <paramref name="train"/> (which must have labels). <paramref name="validation"/>, when
    /// given, may be used for monitoring, early stopping or model selection, never for gradient steps.
    /// Honours <paramref name="cancellationToken"/> between steps by throwing <see cref="OperationCanceledException"/>.
    /// </summary>
    ITrainedModel Fit(
        DigitDataView train,
        DigitDataView? validation = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default);
}

/// <summary>A fitted model: predicts class probabilities and writes itself to a model file.</summary>
public interface ITrainedModel
{
    /// <summary>The catalog name of the trainer that produced it; the model file records it for loading.</summary>
    string TrainerName { get; }

    /// <summary>The hyperparameters it was trained with (recorded in the model file).</summary>
    IReadOnlyDictionary<string, object> Hyperparameters { get; }

    /// <summary>
    /// False when <see cref="PredictProbabilities"/> returns a softmax of decision scores rather than
    /// calibrated probabilities (e.g. an SVM); evaluation then leaves out log-loss.
    /// </summary>
    bool HasCalibratedProbabilities => true;

    /// <summary>The engine that does the numerical work, named in reports: "own" (our compute core) or, e.g., "ML.NET 5.0.1".</summary>
    string Engine => TrainerRegistration.OwnEngine;

    /// <summary>Per-epoch (or per-iteration) history, when the trainer records one.</summary>
    TrainingHistory? History => null;

    /// <summary>
    /// The models this one combines (an ensemble's members), in order: reports evaluate each and show it beside
    /// this model. Empty for a single model.
    /// </summary>
    IReadOnlyList<ITrainedModel> Members => [];

    /// <summary>
    /// The same fitted model predicting with test-time augmentation: the mean over each image and
    /// <paramref name="variants"/> seeded small affine copies of it (0 = the plain prediction). It shares this model's
    /// weights, so a saved model is scored with and without TTA without training again (<c>mnist predict --tta N</c>).
    /// Null when the model has no such setting; the networks have one, and an ensemble passes it to its members that do.
    /// </summary>
    ITrainedModel? WithTestTimeAugmentation(int variants) => null;

    /// <summary>
    /// Writes <c>data.Count × 10</c> row-major class probabilities into <paramref name="probabilities"/>.
    /// </summary>
    void PredictProbabilities(DigitDataView data, Span<float> probabilities);

    /// <summary>Writes the model's parameters (the payload of a model file; see <see cref="ModelFile"/>).</summary>
    void WritePayload(BinaryWriter writer);
}

/// <summary>Conveniences over <see cref="ITrainedModel"/>.</summary>
public static class TrainedModelExtensions
{
    /// <summary>Returns <c>data.Count × 10</c> row-major class probabilities.</summary>
    public static float[] PredictProbabilities(this ITrainedModel model, DigitDataView data)
    {
        var probabilities = new float[data.Count * DigitDataView.ClassCount];
        model.PredictProbabilities(data, probabilities);
        return probabilities;
    }

    /// <summary>The most probable class of each image.</summary>
    public static int[] Predict(this ITrainedModel model, DigitDataView data) =>
        Numerics.Kernels.ArgMaxRows(model.PredictProbabilities(data), DigitDataView.ClassCount);
}
