using System.Diagnostics;
using Mnist.Baselines.Gbdt;
using Mnist.Core.Data;

namespace Mnist.Benchmarks;

/// <summary>
/// `dotnet run -c Release --project Mnist.Benchmarks -- gbdt-kernels [--data DIR] [--repeats R]`: the gbdt
/// tree builder's kernels on one thread, best of R (robust on a shared machine): the histogram of all
/// training images (a root) and of a random half (a child) from the sparse rows, the split scan (AVX-512 and its scalar twin),
/// and the histogram subtraction, with the softmax gradients of the start scores.
/// </summary>
public static class GbdtKernelBench
{
    public static void Run(string[] args)
    {
        string folder = Option(args, "--data") ?? "data";
        int repeats = int.Parse(Option(args, "--repeats") ?? "20");
        var train = DatasetLoader.Load(folder).Train;
        var data = BinnedData.Create(train);
        int n = data.Count;
        var random = new Random(1);
        var gradients = new float[n];
        var hessians = new float[n];
        for (int i = 0; i < n; i++)
        {
            gradients[i] = train.GetLabel(i) == 3 ? -0.9f : 0.1f;
            hessians[i] = 0.09f;
        }
        int[] features = Enumerable.Range(0, data.FeatureCount).ToArray();
        var builder = new TreeBuilder(data, new GbdtOptions());
        int[] all = Enumerable.Range(0, n).ToArray();
        int[] half = all.Where(_ => random.Next(2) == 0).ToArray();
        var (root, sums) = builder.Histogram(all, gradients, hessians, features);
        var child = (long[])root.Clone();
        long rootEntries = data.Entries.Length;
        long halfEntries = half.Sum(i => Enumerable.Range(0, data.BlockCount).Sum(k => (long)data.RowStarts[k * n + i + 1] - data.RowStarts[k * n + i]));
        Console.WriteLine($"{n} images, {data.FeatureCount} features, {rootEntries} non-zero entries, histogram {root.Length * 8 / 1e6:0.0} MB, best of {repeats}");
        Time("histogram, all images", repeats, rootEntries, () => builder.BuildHistogram(root, all));
        Time("histogram, random half", repeats, halfEntries, () => builder.BuildHistogram(child, half));
        var options = new GbdtOptions();
        Time("split scan (AVX-512)", repeats, features.Length * 255L, () => TreeBuilder.FindBestSplit(root, features, sums, options, builder.Scale));
        Time("split scan (scalar twin)", repeats, features.Length * 255L, () => TreeBuilder.FindBestSplit(root, features, sums, options, builder.Scale, reference: true));
        Time("subtraction", repeats, root.Length, () => TreeBuilder.Subtract(child, root));
    }

    private static void Time(string what, int repeats, long units, Action action)
    {
        action();
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        Console.WriteLine($"{what,-28} {best * 1e3,8:0.000} ms  {best * 1e9 / units,6:0.00} ns per unit ({units} units)");
    }

    private static string? Option(string[] args, string name)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
