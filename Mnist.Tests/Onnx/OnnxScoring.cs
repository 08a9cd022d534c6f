using Microsoft.ML.OnnxRuntime;
using Mnist.Core.Data;

namespace Mnist.Tests.Onnx;

/// <summary>Runs an exported model in ONNX Runtime over a data view, in batches, returning both outputs.</summary>
internal static class OnnxScoring
{
    public static (float[] Probabilities, long[] Labels) Run(byte[] model, DigitDataView data, int batchSize = 1000)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var probabilities = new float[data.Count * DigitDataView.ClassCount];
        var labels = new long[data.Count];
        var pixels = new float[batchSize * data.PixelCount];
        using var runOptions = new RunOptions();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int rows = Math.Min(batchSize, data.Count - start);
            data.CopyPixels(start, rows, pixels);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, rows * data.PixelCount), [rows, data.PixelCount]);
            using var outputs = session.Run(runOptions, ["pixels"], [input], ["probabilities", "label"]);
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(probabilities.AsSpan(start * DigitDataView.ClassCount));
            outputs[1].GetTensorDataAsSpan<long>().CopyTo(labels.AsSpan(start));
        }
        return (probabilities, labels);
    }
}
