using Mnist.Cnn;
using Mnist.Cnn.Backends.Own;
using Mnist.Cnn.Callbacks;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using Mnist.Cnn.Training;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Tests.Cnn;

public class WeightAverageTests
{
    private static TrainerCatalog Catalog() => new TrainerCatalog().AddNeuralNetworks();

    [Test]
    public void UpdatesFollowTheWarmedUpDecayAndSwapIsItsOwnInverse()
    {
        // A dense layer and a BatchNorm: parameters and running statistics are both averaged.
        var model = OwnBackend.Build(new NetworkSpec(new TensorShape(2, 2, 1), new DenseSpec(3), new BatchNormSpec(), new DenseSpec(2)), seed: 5);
        var arrays = ModelWeights.Arrays(model);
        var w0 = arrays.Select(a => (float[])a.Clone()).ToArray();
        var average = new WeightAverage(model, decay: 0.15);

        static void Fill(float[][] arrays, float offset)
        {
            for (int i = 0; i < arrays.Length; i++)
                for (int j = 0; j < arrays[i].Length; j++) arrays[i][j] = offset + 0.25f * i - 0.5f * j;
        }
        Fill(arrays, 1);
        var w1 = arrays.Select(a => (float[])a.Clone()).ToArray();
        average.Update();
        Fill(arrays, -2);
        var w2 = arrays.Select(a => (float[])a.Clone()).ToArray();
        average.Update();

        // Update 0 decays by min(0.15, 1/10) = 0.1, update 1 by min(0.15, 2/11) = 0.15.
        Assert.That(WeightAverage.DecayAt(0.15, 0), Is.EqualTo(0.1));
        Assert.That(WeightAverage.DecayAt(0.15, 1), Is.EqualTo(0.15));
        average.Swap();
        for (int i = 0; i < arrays.Length; i++)
            for (int j = 0; j < arrays[i].Length; j++)
            {
                double a1 = 0.1 * w0[i][j] + 0.9 * w1[i][j];
                double a2 = 0.15 * a1 + 0.85 * w2[i][j];
                Assert.That(arrays[i][j], Is.EqualTo(a2).Within(1e-5), $"array {i}, value {j}");
            }
        average.Swap();
        for (int i = 0; i < arrays.Length; i++) Assert.That(arrays[i], Is.EqualTo(w2[i]), $"array {i} after swapping back");
    }

    [Test]
    public void AnAverageWithoutMemoryKeepsTheLiveWeights()
    {
        // With a decay of 1e-9 the average is the last step's weights, so the fit is the fit without it.
        var train = TestData.Mnist.Train.Take(600);
        var settings = new Dictionary<string, string> { ["epochs"] = "2", ["batch-size"] = "50" };
        var plain = Catalog().Create("mlp", settings).Fit(train);
        var averaged = Catalog().Create("mlp", new Dictionary<string, string>(settings) { ["ema"] = "1e-9" }).Fit(train);
        var data = TestData.Mnist.Test!.Take(200);
        Assert.That(averaged.PredictProbabilities(data), Is.EqualTo(plain.PredictProbabilities(data)).Within(1e-5f));
    }

    [Test]
    public void TheKeptModelIsTheEvaluatedAverage()
    {
        var train = TestData.Mnist.Train.Take(2000);
        var validation = TestData.Mnist.Test!.Take(500);
        var settings = new Dictionary<string, string> { ["epochs"] = "4", ["batch-size"] = "50", ["ema"] = "0.99" };
        var model = Catalog().Create("mlp", settings).Fit(train, validation);
        var plain = Catalog().Create("mlp", new Dictionary<string, string>(settings) { ["ema"] = "0" }).Fit(train, validation);
        double best = model.History!.Epochs.Max(e => e.ValidationAccuracy!.Value);
        Assert.Multiple(() =>
        {
            // The best epoch's average is what the fit returns, so it scores the history's best validation accuracy.
            Assert.That(Evaluator.Evaluate(model, validation).Accuracy, Is.EqualTo(best));
            Assert.That(model.History.Epochs.Select(e => e.ValidationAccuracy),
                Is.Not.EqualTo(plain.History!.Epochs.Select(e => e.ValidationAccuracy)), "the average is what each epoch evaluates");
            Assert.That(model.History.Epochs.Select(e => e.TrainLoss), Is.EqualTo(plain.History.Epochs.Select(e => e.TrainLoss)),
                "training runs on the live weights, untouched by the average");
        });
    }
}
