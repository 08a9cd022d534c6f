using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Mnist.Core.Data;

namespace Mnist.Baselines.MlNet;

/// <summary>
/// ML.NET's OneVersusAll over a binary learner, fitting each digit's learner once (<see cref="OneFitPerDigit{TModel}"/>):
/// the same transformer as <c>OneVersusAll(learner())</c>, without its extra fit of learner 0.
/// </summary>
/// <param name="learner">Makes the binary learner; a new one per fit, so nothing fitted outlives its fit.</param>
internal sealed class OneVersusAllFittingEachDigitOnce<TModel>(MLContext ml, Func<ITrainerEstimator<BinaryPredictionTransformer<TModel>, TModel>> learner)
    : IEstimator<ITransformer>
    where TModel : class
{
    public ITransformer Fit(IDataView input) =>
        ml.MulticlassClassification.Trainers.OneVersusAll(new OneFitPerDigit<TModel>(learner())).Fit(input);

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        ml.MulticlassClassification.Trainers.OneVersusAll(learner()).GetOutputSchema(inputSchema);
}

/// <summary>
/// A binary learner for ML.NET's OneVersusAll that fits each digit once. ML.NET 5.0.1's OneVersusAllTrainer.Fit
/// trains learner 0 a first time for the output schema and again in its loop over the classes, so ten digits cost
/// eleven fits. This returns the first fit of a digit's view when OneVersusAll asks for it again.
/// </summary>
/// <remarks>
/// Only for a learner whose fit depends on its options and data alone (FastTree with its seeds set): then the
/// repeated fit would have been the same model, and the result is the one OneVersusAll gives without this.
/// A digit's view is known by the position of its first positive row: views of different digits differ there.
/// </remarks>
internal sealed class OneFitPerDigit<TModel>(ITrainerEstimator<BinaryPredictionTransformer<TModel>, TModel> learner)
    : ITrainerEstimator<BinaryPredictionTransformer<TModel>, TModel>
    where TModel : class
{
    private readonly Dictionary<long, BinaryPredictionTransformer<TModel>> _fitted = [];

    public TrainerInfo Info => learner.Info;

    public BinaryPredictionTransformer<TModel> Fit(IDataView input)
    {
        long first = FirstPositiveRow(input);
        if (_fitted.TryGetValue(first, out var fitted)) return fitted;
        return _fitted[first] = learner.Fit(input);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => learner.GetOutputSchema(inputSchema);

    /// <summary>The position of the view's first row labelled true; −1 for a view without one.</summary>
    private static long FirstPositiveRow(IDataView view)
    {
        var column = view.Schema[DigitDataView.Columns.Label];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<bool>(column);
        bool positive = false;
        while (cursor.MoveNext())
        {
            getter(ref positive);
            if (positive) return cursor.Position;
        }
        return -1;
    }
}
