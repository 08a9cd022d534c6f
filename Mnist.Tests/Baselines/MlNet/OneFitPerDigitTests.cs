using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Mnist.Baselines.MlNet;

namespace Mnist.Tests.Baselines.MlNet;

/// <summary>mlnet-fasttree's one-vs-all fits each digit's learner once and gives the model ML.NET's own OneVersusAll gives.</summary>
[TestFixture]
public sealed class OneFitPerDigitTests
{
    private sealed class Counting<TModel>(ITrainerEstimator<BinaryPredictionTransformer<TModel>, TModel> inner, List<int> fits)
        : ITrainerEstimator<BinaryPredictionTransformer<TModel>, TModel>
        where TModel : class
    {
        public TrainerInfo Info => inner.Info;
        public SchemaShape GetOutputSchema(SchemaShape inputSchema) => inner.GetOutputSchema(inputSchema);

        public BinaryPredictionTransformer<TModel> Fit(IDataView input)
        {
            fits.Add(0);
            return inner.Fit(input);
        }
    }

    [Test]
    public void TenDigitsTakeTenFitsAndGiveMlNetsOwnOneVersusAllScores()
    {
        var train = TestData.Mnist.Train.Take(600);
        var test = TestData.Mnist.Test!.Take(200);
        var plainFits = new List<int>();
        var onceFits = new List<int>();
        var ml = new MLContext(7);
        Counting<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>> Learner(List<int> fits) =>
            new(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfTrees = 5, NumberOfLeaves = 4, MinimumExampleCountPerLeaf = 5, Seed = 7, FeatureSelectionSeed = 7, NumberOfThreads = 1,
            }), fits);

        var plain = ml.MulticlassClassification.Trainers.OneVersusAll(Learner(plainFits)).Fit(train);
        var once = new OneVersusAllFittingEachDigitOnce<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>>(ml, () => Learner(onceFits)).Fit(train);

        float[][] Scores(ITransformer model) => [.. ml.Data.CreateEnumerable<ScoreRow>(model.Transform(test), reuseRowObject: false).Select(r => r.Score)];
        Assert.Multiple(() =>
        {
            Assert.That(plainFits, Has.Count.EqualTo(11), "ML.NET 5.0.1 fits learner 0 twice; if this fails, ML.NET changed and the wrapper may go");
            Assert.That(onceFits, Has.Count.EqualTo(10));
            Assert.That(Scores(once), Is.EqualTo(Scores(plain)));
        });
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
