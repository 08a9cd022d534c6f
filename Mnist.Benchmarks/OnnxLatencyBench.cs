using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Mnist.Baselines;
using Mnist.Cnn;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;
using Mnist.Onnx;

namespace Mnist.Benchmarks;

/// <summary>
/// `-- onnx MODEL.model [--threads 2] [--data data]`: our PredictProbabilities against ONNX Runtime on the model's
/// ONNX export, both on the same thread count. Latency: one image per call, the median of 200 calls (after 20
/// warm-up calls). Throughput: the 10,000 test images (ours: one call over the view; ONNX Runtime: batches of
/// 256), the best of 3 runs. Short on purpose: the figures are for a shared machine.
/// </summary>
internal static class OnnxLatencyBench
{
    private const int LatencyCalls = 200;
    private const int Warmup = 20;
    private const int BatchSize = 256;

    public static void Run(string[] args)
    {
        if (args.Length == 0) throw new ArgumentException("usage: onnx MODEL.model [--threads N] [--data FOLDER]");
        string modelPath = args[0];
        int threads = Option(args, "--threads") is { } t ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 2;
        string data = Option(args, "--data") ?? "data";
        ComputeSettings.Threads = threads;

        var model = ModelFile.Load(modelPath, new TrainerCatalog().AddBaselines().AddNeuralNetworks());
        var test = DatasetLoader.Load(data).Test ?? throw new ArgumentException($"{data} has no test images");
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        using var session = new InferenceSession(OnnxExport.ToBytes(model), options);
        using var runOptions = new RunOptions();
        Console.WriteLine($"{model.TrainerName} ({modelPath}), {threads} threads, {test.Count} test images, ONNX Runtime {OrtEnv.Instance().GetVersionString()}");

        var images = Enumerable.Range(0, LatencyCalls).Select(i => test.Subset([i % test.Count]).Materialize()).ToArray();
        double ourLatency = MedianMilliseconds(i => model.PredictProbabilities(images[i]));
        var pixels = new float[BatchSize * test.PixelCount];
        float[] Score(int start, int rows)
        {
            test.CopyPixels(start, rows, pixels);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, rows * test.PixelCount), [rows, test.PixelCount]);
            using var outputs = session.Run(runOptions, [OnnxExport.InputName], [input], [OnnxExport.ProbabilitiesName]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        double onnxLatency = MedianMilliseconds(i => Score(i % test.Count, 1));

        double ourSeconds = BestSeconds(() => model.PredictProbabilities(test));
        double onnxSeconds = BestSeconds(() =>
        {
            for (int start = 0; start < test.Count; start += BatchSize) Score(start, Math.Min(BatchSize, test.Count - start));
        });
        Console.WriteLine($"| engine | latency per image (median of {LatencyCalls}) | throughput ({test.Count} images, best of 3) |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine($"| ours (PredictProbabilities) | {ourLatency:F2} ms | {test.Count / ourSeconds:N0} images/s ({ourSeconds:F2} s) |");
        Console.WriteLine($"| ONNX Runtime (batches of {BatchSize}) | {onnxLatency:F2} ms | {test.Count / onnxSeconds:N0} images/s ({onnxSeconds:F2} s) |");
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static double MedianMilliseconds(Action<int> call)
    {
        for (int i = 0; i < Warmup; i++) call(i);
        var times = new double[LatencyCalls];
        for (int i = 0; i < LatencyCalls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call(i);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[LatencyCalls / 2];
    }

    private static double BestSeconds(Action run)
    {
        run();
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return best;
    }
}
