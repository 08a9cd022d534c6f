using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mnist.Baselines;
using Mnist.Cnn;
using Mnist.Core.Data;
using Mnist.Core.Training;
using Mnist.Onnx;
using Mnist.Tests.Runner;

namespace Mnist.Tests.Onnx;

/// <summary>
/// Every exportable trainer, fitted quickly on a small subset: ONNX Runtime's labels on the 10,000 MNIST test
/// images equal our Predict, and its probabilities our PredictProbabilities within 1e-4 (1e-3 for gbdt).
/// </summary>
public sealed class OnnxExportTests
{
    private static TrainerCatalog Catalog() => new TrainerCatalog().AddBaselines().AddNeuralNetworks();

    private static IEnumerable<TestCaseData> Trainers()
    {
        TestCaseData Case(string trainer, int images, double tolerance, params string[] parameters) =>
            new TestCaseData(trainer, images, tolerance, parameters).SetArgDisplayNames(string.Join(" ", [trainer, .. parameters]));
        yield return Case("logreg", 2000, 1e-4, "max-iterations=30");
        yield return Case("linear-svm", 2000, 1e-4, "max-epochs=10");
        yield return Case("linear-svm", 2000, 1e-4, "max-epochs=10", "multiclass=ovr");
        yield return Case("gbdt", 2000, 1e-3, "rounds=8", "max-leaves=15");
        yield return Case("kernel-svm", 1000, 1e-4);
        yield return Case("knn", 2000, 1e-4, "k=5");
        yield return Case("knn", 2000, 1e-4, "k=4", "pca-components=30");
        yield return Case("knn", 2000, 1e-4, "k=6", "weighting=distance");
        yield return Case("mlp", 2000, 1e-4, "epochs=1");
        yield return Case("cnn-small", 1000, 1e-4, "epochs=1");
        yield return Case("cnn", 500, 1e-4, "epochs=1", "batch-size=50");
        yield return Case("cnn-vgg", 500, 1e-4, "epochs=1", "batch-size=50");
    }

    [TestCaseSource(nameof(Trainers))]
    public void OnnxRuntimeAgreesWithOurPredictionsOnTheTestSet(string trainer, int images, double tolerance, string[] parameters)
    {
        var settings = parameters.Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var model = Catalog().Create(trainer, settings).Fit(TestData.Mnist.Train.Take(images).Materialize());
        var test = TestData.Mnist.Test!;
        float[] ours = model.PredictProbabilities(test);
        int[] ourLabels = model.Predict(test);

        var (probabilities, labels) = OnnxScoring.Run(OnnxExport.ToBytes(model), test);

        double maxDifference = 0;
        for (int i = 0; i < ours.Length; i++) maxDifference = Math.Max(maxDifference, Math.Abs(ours[i] - probabilities[i]));
        int disagreements = ourLabels.Where((label, i) => label != labels[i]).Count();
        TestContext.Out.WriteLine($"{trainer}: max |Δp| = {maxDifference:G3}, {disagreements} label disagreements of {test.Count}");
        Assert.Multiple(() =>
        {
            Assert.That(labels, Has.Length.EqualTo(test.Count));
            Assert.That(disagreements, Is.Zero);
            Assert.That(maxDifference, Is.LessThanOrEqualTo(tolerance));
        });
    }

    [Test]
    public void DistanceWeightedKnnOnItsOwnTrainingImagesAgrees()
    {
        // Every query has an exact match, the case where only exact matches vote. ‖x‖² + ‖r‖² − 2x·r of an identical
        // image is 0 only up to rounding, in our search as in ONNX Runtime's, so one side may see a tiny distance
        // (weight 1/√d, the match still dominating) where the other sees 0: labels agree, probabilities only roughly.
        var train = TestData.Mnist.Train.Take(1000).Materialize();
        var model = Catalog().Create("knn", new Dictionary<string, string> { ["k"] = "3", ["weighting"] = "distance" }).Fit(train);
        var (probabilities, labels) = OnnxScoring.Run(OnnxExport.ToBytes(model), train);
        Assert.Multiple(() =>
        {
            Assert.That(labels.Select(l => (int)l), Is.EqualTo(model.Predict(train)));
            Assert.That(probabilities, Is.EqualTo(model.PredictProbabilities(train)).Within(0.01));
        });
    }

    [Test]
    public void TheGraphFollowsTheContract()
    {
        var model = Catalog().Create("cnn", new Dictionary<string, string> { ["epochs"] = "1", ["batch-size"] = "50" }).Fit(TestData.Mnist.Train.Take(200).Materialize());
        const string Hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        byte[] bytes = OnnxExport.ToBytes(model, Hash);
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(bytes);
        using var session = new InferenceSession(bytes);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Multiple(() =>
        {
            Assert.That(session.InputMetadata.Keys, Is.EqualTo(new[] { "pixels" }));
            Assert.That(session.InputMetadata["pixels"].ElementDataType, Is.EqualTo(TensorElementType.Float));
            Assert.That(session.InputMetadata["pixels"].Dimensions, Is.EqualTo(new[] { -1, 784 }));
            Assert.That(session.OutputMetadata.Keys, Is.EqualTo(new[] { "probabilities", "label" }));
            Assert.That(session.OutputMetadata["probabilities"].ElementDataType, Is.EqualTo(TensorElementType.Float));
            Assert.That(session.OutputMetadata["probabilities"].Dimensions, Is.EqualTo(new[] { -1, 10 }));
            Assert.That(session.OutputMetadata["label"].ElementDataType, Is.EqualTo(TensorElementType.Int64));
            Assert.That(session.OutputMetadata["label"].Dimensions, Is.EqualTo(new[] { -1 }));
            Assert.That(proto.OpsetImport.Single(o => o.Domain == "").Version, Is.GreaterThanOrEqualTo(13));
            Assert.That(proto.Graph.Node.Select(n => n.OpType), Has.None.AnyOf("Dropout", "BatchNormalization"), "BatchNorm folded, dropout removed");
            Assert.That(proto.Graph.Node.Count(n => n.OpType == "Conv"), Is.EqualTo(4));
            Assert.That(metadata["trainer"], Is.EqualTo("cnn"));
            Assert.That(System.Text.Json.JsonDocument.Parse(metadata["hyperparameters"]).RootElement.GetProperty("epochs").GetInt32(), Is.EqualTo(1));
            Assert.That(metadata["software_version"], Is.EqualTo(Mnist.Core.Reporting.MachineInfo.SoftwareVersion()));
            Assert.That(metadata["training_data_sha256"], Is.EqualTo(Hash));
        });
    }

    [Test]
    public void AModelWithoutAGraphIsNotExportable()
    {
        var model = TestCatalogs.Centroids().Create("centroid", new Dictionary<string, string>()).Fit(TestData.Mnist.Train.Take(100));
        Assert.That(() => OnnxExport.ToBytes(model), Throws.TypeOf<NotExportableException>().With.Message.Contains("'centroid'"));
    }

    [Test]
    public void SaveWritesAtomicallyAndTheFileRunsInOnnxRuntime()
    {
        string folder = TestData.NewTempFolder();
        try
        {
            var model = Catalog().Create("logreg", new Dictionary<string, string> { ["max-iterations"] = "5" }).Fit(TestData.Mnist.Train.Take(300));
            string path = Path.Combine(folder, "logreg.onnx");
            OnnxExport.Save(model, path);
            var data = TestData.Mnist.Test!.Take(100);
            var (_, labels) = OnnxScoring.Run(File.ReadAllBytes(path), data);
            Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { path }));
            Assert.That(labels.Select(l => (int)l), Is.EqualTo(model.Predict(data)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
