using Microsoft.ML;
using Microsoft.ML.Data;
using Mnist.Cnn;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;
using Mnist.Onnx;

namespace Mnist.Tests.Onnx;

/// <summary>
/// ML.NET's ApplyOnnxModel scores an exported cnn with the accuracy our Evaluator measures. The images reach
/// ML.NET through LoadFromEnumerable (a "pixels" vector column named as the ONNX input).
/// </summary>
public sealed class MlNetOnnxTests
{
    private sealed class DigitRow
    {
        [VectorType(784)]
        [ColumnName("pixels")]
        public float[] Pixels { get; set; } = [];

        public int Label { get; set; }
    }

    private sealed class ScoredRow
    {
        [VectorType(10)]
        [ColumnName("probabilities")]
        public float[] Probabilities { get; set; } = [];

        public int Label { get; set; }
    }

    [Test]
    public void ApplyOnnxModelScoresTheCnnWithOurAccuracy()
    {
        string folder = TestData.NewTempFolder();
        try
        {
            var model = new TrainerCatalog().AddNeuralNetworks().Create("cnn", new Dictionary<string, string> { ["epochs"] = "1", ["batch-size"] = "50" })
                .Fit(TestData.Mnist.Train.Take(500).Materialize());
            string onnx = Path.Combine(folder, "cnn.onnx");
            OnnxExport.Save(model, onnx);
            // 2,000 test images: ML.NET scores row by row, and equality of accuracies needs no more.
            var test = TestData.Mnist.Test!.Take(2000);
            double ours = Evaluator.Evaluate(model, test).Accuracy;

            var ml = new MLContext(seed: 0);
            var rows = Enumerable.Range(0, test.Count).Select(i => new DigitRow { Pixels = test.GetImage(i).ToArray(), Label = test.GetLabel(i) });
            var data = ml.Data.LoadFromEnumerable(rows);
            var pipeline = ml.Transforms.ApplyOnnxModel(outputColumnNames: ["probabilities"], inputColumnNames: ["pixels"], modelFile: onnx);
            var scored = pipeline.Fit(data).Transform(data);
            var predictions = ml.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false).ToList();
            int correct = predictions.Count(r => Array.IndexOf(r.Probabilities, r.Probabilities.Max()) == r.Label);
            double accuracy = (double)correct / predictions.Count;
            TestContext.Out.WriteLine($"cnn (500 images, 1 epoch): ours {ours:P2}, ML.NET ApplyOnnxModel {accuracy:P2}");
            Assert.That(predictions, Has.Count.EqualTo(test.Count));
            Assert.That(accuracy, Is.EqualTo(ours));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
