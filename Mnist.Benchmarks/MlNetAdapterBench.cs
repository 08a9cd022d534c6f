using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Mnist.Core.Data;

namespace Mnist.Benchmarks;

/// <summary>
/// `dotnet run -c Release --project Mnist.Benchmarks -- mlnet-adapter [--data DIR] [--threads T] [--repeats R]`:
/// ML.NET's fit time on our DigitDataView against ML.NET's own LoadFromEnumerable view of the same
/// rows, the two alternated R times (best of R), plus one plain cursor pass over each view.
/// </summary>
public static class MlNetAdapterBench
{
    private sealed class Row
    {
        public uint Label { get; set; }
        [VectorType(784)] public float[] Features { get; set; } = [];
    }

    public static void Run(string[] args)
    {
        string folder = Option(args, "--data") ?? "data";
        int threads = int.Parse(Option(args, "--threads") ?? "2");
        int repeats = int.Parse(Option(args, "--repeats") ?? "3");
        var train = DatasetLoader.Load(folder).Train;
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, train.Count).Select(i => new Row { Label = (uint)train.GetLabel(i), Features = train.GetImage(i).ToArray() }).ToList();
        // ML.NET's usual route: a POCO view, then the label made a key (as every multiclass trainer needs),
        // keys ordered by value as ours are, so both views pose the same problem and fits take the same steps.
        var enumerable = ml.Data.LoadFromEnumerable(rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(enumerable).Transform(enumerable);
        Console.WriteLine($"{train.Count} images, {threads} threads, best of {repeats}");
        Console.WriteLine($"| what | DigitDataView | LoadFromEnumerable + MapValueToKey | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        Report("one cursor pass (Label, Features)", repeats, () => Pass(train), () => Pass(keyed));
        var trainers = new (string Name, Func<IEstimator<ITransformer>> Create)[]
        {
            ("SdcaMaximumEntropy (defaults)", () => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new Microsoft.ML.Trainers.SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = threads })),
            ("LbfgsMaximumEntropy (defaults)", () => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new Microsoft.ML.Trainers.LbfgsMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = threads })),
        };
        foreach (var (name, create) in trainers)
            Report($"fit {name}", repeats, () => create().Fit(train), () => create().Fit(keyed));
    }

    private static void Report(string what, int repeats, Action ours, Action theirs)
    {
        double bestOurs = double.MaxValue, bestTheirs = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            bestOurs = Math.Min(bestOurs, Time(ours));
            bestTheirs = Math.Min(bestTheirs, Time(theirs));
        }
        Console.WriteLine($"| {what} | {bestOurs:0.000} s | {bestTheirs:0.000} s | {bestOurs / bestTheirs:0.00} |");
    }

    private static double Time(Action action)
    {
        GC.Collect();
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static void Pass(IDataView view)
    {
        var columns = new[] { view.Schema["Label"], view.Schema["Features"] };
        using var cursor = view.GetRowCursor(columns);
        var label = cursor.GetGetter<uint>(columns[0]);
        var features = cursor.GetGetter<VBuffer<float>>(columns[1]);
        uint key = 0;
        var buffer = default(VBuffer<float>);
        double sum = 0;
        while (cursor.MoveNext())
        {
            label(ref key);
            features(ref buffer);
            sum += key + buffer.GetValues()[400];
        }
        if (double.IsNaN(sum)) Console.WriteLine(sum);
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
