using Google.Protobuf;
using Mnist.Baselines.Gbdt;
using Mnist.Baselines.KernelSvm;
using Mnist.Baselines.Knn;
using Mnist.Baselines.LinearSvm;
using Mnist.Baselines.LogisticRegression;
using Mnist.Cnn.Training;
using Mnist.Core.Data;
using Mnist.Core.IO;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Onnx;
using static Mnist.Onnx.GraphBuilder;

namespace Mnist.Onnx;

/// <summary>A model that has no faithful ONNX graph (its trainer or one of its parts); the message says why.</summary>
public sealed class NotExportableException(string message) : Exception(message);

/// <summary>
/// Writes a trained model as an ONNX model (opset 17; ai.onnx.ml 3 for the tree ensemble) with one input and two outputs:
/// <list type="bullet">
/// <item><c>pixels</c>: float32 [N, 784] (any N), pixels scaled to [0, 1] as in <see cref="DigitDataView"/>;</item>
/// <item><c>probabilities</c>: float32 [N, 10], what <see cref="ITrainedModel.PredictProbabilities"/> returns;</item>
/// <item><c>label</c>: int64 [N], the predicted digit.</item>
/// </list>
/// Metadata: <c>trainer</c>, <c>hyperparameters</c> (JSON), <c>software_version</c> and
/// <c>training_data_sha256</c> (the <see cref="Mnist.Core.Data.DigitDataView.ContentSha256"/> recorded in the model file, or "unknown").
/// Exported: mlp, cnn, cnn-small, logreg, linear-svm, gbdt, kernel-svm and knn; anything
/// else raises <see cref="NotExportableException"/>.
/// </summary>
public static class OnnxExport
{
    public const string InputName = "pixels";
    public const string ProbabilitiesName = "probabilities";
    public const string LabelName = "label";
    public const int Opset = 17;
    private const int MlOpset = 3;
    private const long IrVersion = 8; // the IR version of opset 17
    private const int Classes = DigitDataView.ClassCount;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> through <see cref="AtomicFile"/>.</summary>
    public static void Save(ITrainedModel model, string path, string? trainingDataSha256 = null)
    {
        byte[] bytes = ToBytes(model, trainingDataSha256);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The serialized ONNX model.</summary>
    public static byte[] ToBytes(ITrainedModel model, string? trainingDataSha256 = null) =>
        ToModelProto(model, trainingDataSha256).ToByteArray();

    internal static ModelProto ToModelProto(ITrainedModel model, string? trainingDataSha256)
    {
        ArgumentNullException.ThrowIfNull(model);
        var g = new GraphBuilder();
        int pixelCount = AddOutputs(g, model);
        g.Graph.Input.Add(Tensor(InputName, TensorProto.Types.DataType.Float, pixelCount));
        g.Graph.Output.Add(Tensor(ProbabilitiesName, TensorProto.Types.DataType.Float, Classes));
        g.Graph.Output.Add(Tensor(LabelName, TensorProto.Types.DataType.Int64));

        string version = MachineInfo.SoftwareVersion();
        var onnx = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "MnistExperiments",
            ProducerVersion = version,
            DocString = $"MNIST digit classifier '{model.TrainerName}': {InputName} float32 [N, {pixelCount}] in [0, 1] → {ProbabilitiesName} float32 [N, {Classes}], {LabelName} int64 [N].",
            Graph = g.Graph,
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (g.UsesMlDomain) onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = MlDomain, Version = MlOpset });
        foreach (var (key, value) in new[]
        {
            ("trainer", model.TrainerName),
            ("hyperparameters", System.Text.Json.JsonSerializer.Serialize(model.Hyperparameters)),
            ("software_version", version),
            ("training_data_sha256", trainingDataSha256 ?? "unknown"),
        })
            onnx.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return onnx;
    }

    /// <summary>Adds the model's graph ending in the two named outputs; returns the pixels per image it expects.</summary>
    private static int AddOutputs(GraphBuilder g, ITrainedModel model)
    {
        switch (model)
        {
            case NeuralModel { Options.Tta: > 0 }:
                throw new NotExportableException("its predictions average test-time augmented variants (tta > 0), which the ONNX graph does not do");
            case NeuralModel neural:
                SoftmaxOutputs(g, NeuralGraph.Logits(g, InputName, neural.Network));
                return neural.Network.InputShape.Size;
            case LogisticRegressionModel logreg:
                SoftmaxOutputs(g, BaselineGraphs.LinearScores(g, InputName, logreg.GetWeights(), logreg.GetBias()));
                return logreg.Features;
            case LinearSvmModel svm:
                SoftmaxOutputs(g, BaselineGraphs.LinearScores(g, InputName, svm.GetWeights(), svm.GetBias()));
                return svm.Features;
            case GbdtModel gbdt:
                SoftmaxOutputs(g, BaselineGraphs.GbdtScores(g, InputName, gbdt));
                return gbdt.PixelCount;
            case KernelSvmModel kernelSvm:
                SoftmaxOutputs(g, BaselineGraphs.KernelSvmScores(g, InputName, kernelSvm));
                return kernelSvm.PixelCount;
            case KnnModel knn:
                var (probabilities, labelScores) = BaselineGraphs.KnnOutputs(g, InputName, knn);
                g.Node("Identity", [probabilities], ProbabilitiesName);
                g.Node("ArgMax", [labelScores], LabelName, Int("axis", 1), Int("keepdims", 0));
                return knn.PixelCount;
            default:
                throw new NotExportableException($"trainer '{model.TrainerName}' has no ONNX graph in this build");
        }
    }

    /// <summary>probabilities = softmax(scores); label = the first index of the largest probability, as our Predict.</summary>
    private static void SoftmaxOutputs(GraphBuilder g, string scores)
    {
        g.Node("Softmax", [scores], ProbabilitiesName, Int("axis", 1));
        g.Node("ArgMax", [ProbabilitiesName], LabelName, Int("axis", 1), Int("keepdims", 0));
    }
}
