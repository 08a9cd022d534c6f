using System.Diagnostics;
using System.Globalization;
using Mnist.Cnn;
using Mnist.Cnn.Augmentation;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Optimizers;
using Mnist.Cnn.Training;
using Mnist.Core.Numerics;

namespace Mnist.Benchmarks;

/// <summary>
/// `-- conv [--threads N] [--batch B] [--reps R] [--kernels | --step] [--cpu-time] [--unfused]`: the cnn's speed on synthetic 28×28 batches, best of R.
/// 1. Each convolution product of the cnn's four layers, the direct kernels (<see cref="Convolution"/>) alternated
///    in one process with the im2col + GEMM lowering they replaced (<see cref="LoweredConvolution"/>) and, where it
///    applies (conv2–conv4), Winograd (F(4×4, 5×5) or F(4×4, 3×3)), which the layers use there.
/// 2. One training step of the cnn (forward, loss, backward, Adam), step by step as the own backend schedules it (fused
///    BatchNorm + ReLU (+ MaxPool) steps; with --unfused, every layer on its own), and images/s without augmentation.
/// 3. The default augmentation (<see cref="RandomAffine"/>) of one batch, as a share of a step.
/// </summary>
internal static class ConvBench
{
    /// <summary>One product three ways: Winograd is null where it does not apply (<see cref="WinogradConvolution.Supports"/>).</summary>
    private sealed record Product(string Layer, string Name, ConvolutionShape Shape, Action<int> Direct, Action<int> Lowered, Action<int>? Winograd = null)
    {
        public double Flops(int batch) => 2.0 * batch * Shape.OutHeight * Shape.OutWidth * Shape.Taps * Shape.Filters;
    }

    public static void Run(string[] args)
    {
        int threads = Option(args, "--threads", 2), batch = Option(args, "--batch", 128), reps = Option(args, "--reps", 7);
        ComputeSettings.Threads = threads;
        s_cpuTime = args.Contains("--cpu-time");
        if (s_cpuTime && threads != 1) throw new ArgumentException("--cpu-time measures the calling thread only: use it with --threads 1.");
        // --network cnn-vgg: the step table of that architecture instead of the cnn's.
        string network = Option(args, "--network", "cnn");
        var spec = network switch
        {
            "cnn" => Architectures.Cnn(),
            "cnn-vgg" => Architectures.CnnVgg(),
            _ => throw new ArgumentException($"--network: '{network}' is not one of cnn, cnn-vgg."),
        };
        double peak = threads * QuickBench.PeakGflopsPerCore;
        Console.WriteLine($"cnn convolution benchmark: {threads} threads, batch {batch}, best of {reps}, ISA {Gemm.DefaultIsa}, peak {peak:F0} GFLOP/s");
        Console.WriteLine();
        // --kernels / --step: only that table (the augmentation row needs the step).
        bool kernels = !args.Contains("--step"), step = !args.Contains("--kernels");
        if (kernels) KernelTable(batch, reps, peak);
        if (!step) return;
        Console.WriteLine();
        double stepSeconds = StepTable(spec, network, batch, reps, peak, fuse: !args.Contains("--unfused"));
        Console.WriteLine();
        AugmentationRow(batch, reps, stepSeconds);
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static int Option(string[] args, string name, int fallback) =>
        int.Parse(Option(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private static float[] Random(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    // ---------------------------------------------------------------- 1. kernels

    private static void KernelTable(int batch, int reps, double peak)
    {
        ConvolutionShape[] shapes =
        [
            new(28, 28, 1, 5, 2, 28, 28, 32),
            new(28, 28, 32, 5, 2, 28, 28, 32),
            new(14, 14, 32, 3, 1, 14, 14, 64),
            new(14, 14, 64, 3, 1, 14, 14, 64),
        ];
        var random = new Random(1);
        var products = new List<Product>();
        for (int l = 0; l < shapes.Length; l++)
        {
            var s = shapes[l];
            var x = Random(random, batch * s.InputSize);
            var dy = Random(random, batch * s.OutputSize);
            var w = Random(random, s.Taps * s.Filters);
            var b = Random(random, s.Filters);
            var y = new float[batch * s.OutputSize];
            var dx = new float[batch * s.InputSize];
            var dw = new float[w.Length];
            var db = new float[b.Length];
            var lowered = new LoweredConvolution(s, batch);
            string name = $"conv{l + 1} {s.Height}×{s.Width}×{s.Channels}→{s.Filters} {s.Kernel}×{s.Kernel}";
            bool winograd = WinogradConvolution.Supports(s);
            products.Add(new Product(name, "forward", s,
                n => Convolution.Forward(s, x, n, w, b, y, algorithm: ConvolutionAlgorithm.Direct),
                n => lowered.Forward(x, n, w, b, y),
                winograd ? n => Convolution.Forward(s, x, n, w, b, y, algorithm: ConvolutionAlgorithm.Winograd) : null));
            products.Add(new Product(name, "weight gradient", s,
                n => Convolution.WeightGradient(s, x, dy, n, dw, db, algorithm: ConvolutionAlgorithm.Direct),
                n => lowered.WeightGradient(x, dy, n, dw, db),
                winograd ? n => Convolution.WeightGradient(s, x, dy, n, dw, db, algorithm: ConvolutionAlgorithm.Winograd) : null));
            if (s.Channels > 1) // the first layer's input gradient is never needed
                products.Add(new Product(name, "input gradient", s,
                    n => Convolution.InputGradient(s, dy, n, w, dx, algorithm: ConvolutionAlgorithm.Direct),
                    n => lowered.InputGradient(dy, n, w, dx),
                    winograd ? n => Convolution.InputGradient(s, dy, n, w, dx, algorithm: ConvolutionAlgorithm.Winograd) : null));
        }

        // GFLOP/s count the direct convolution's multiply-adds, so Winograd's figure is an effective rate.
        Console.WriteLine("| layer | product | im2col + GEMM ms | direct ms | Winograd ms | used ms | used GFLOP/s | % of peak | used vs im2col | Winograd vs direct |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        double totalLowered = 0, totalUsed = 0, totalFlops = 0;
        foreach (var p in products)
        {
            p.Direct(batch);
            p.Lowered(batch);
            p.Winograd?.Invoke(batch);
            double direct = double.MaxValue, lowered = double.MaxValue, winograd = double.MaxValue;
            for (int r = 0; r < reps; r++) // alternated, so all see the same machine load
            {
                lowered = Math.Min(lowered, Time(() => p.Lowered(batch)));
                direct = Math.Min(direct, Time(() => p.Direct(batch)));
                if (p.Winograd is { } w) winograd = Math.Min(winograd, Time(() => w(batch)));
            }
            double used = p.Winograd is null ? direct : winograd;
            double gflops = p.Flops(batch) / used / 1e9;
            totalLowered += lowered;
            totalUsed += used;
            totalFlops += p.Flops(batch);
            string winogradCells = p.Winograd is null ? "– " : $"{winograd * 1e3:F2}";
            string ratio = p.Winograd is null ? "–" : $"{direct / winograd:F2}";
            Console.WriteLine($"| {p.Layer} | {p.Name} | {lowered * 1e3:F2} | {direct * 1e3:F2} | {winogradCells} | {used * 1e3:F2} | {gflops:F0} | {100 * gflops / peak:F0}% | {lowered / used:F2} | {ratio} |");
        }
        double total = totalFlops / totalUsed / 1e9;
        Console.WriteLine($"| all | | {totalLowered * 1e3:F2} | | | {totalUsed * 1e3:F2} | {total:F0} | {100 * total / peak:F0}% | {totalLowered / totalUsed:F2} | |");
    }

    /// <summary>--cpu-time (one thread only): time the calling thread spent on a core, which a busy machine barely changes.</summary>
    private static bool s_cpuTime;

    private static double Now() => s_cpuTime ? ThreadCpuSeconds() : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    private static double Time(Action action)
    {
        double start = Now();
        action();
        return Now() - start;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static double ThreadCpuSeconds()
    {
        const int ThreadCpuTimeClock = 3; // CLOCK_THREAD_CPUTIME_ID
        ClockGetTime(ThreadCpuTimeClock, out var t);
        return t.Seconds + t.Nanoseconds * 1e-9;
    }

    // ---------------------------------------------------------------- 2. one training step

    private static double StepTable(Mnist.Cnn.Networks.NetworkSpec spec, string networkName, int batch, int reps, double peak, bool fuse)
    {
        var model = Mnist.Cnn.Backends.Own.OwnBackend.Build(spec, seed: 1, fuse);
        // Step by step through the model's own buffers, as Forward and Backward run them: fused steps, views (Flatten)
        // sharing their input's buffer and not run, backward passes in place where a step allows it.
        var steps = model.Steps;
        var layers = steps.Select(s => s.Layer).ToArray();
        var random = new Random(2);
        var input = Enumerable.Range(0, batch * 784).Select(_ => (float)random.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, batch).Select(_ => random.Next(10)).ToArray();
        int n = layers.Length;
        var view = layers.Select((l, i) => i > 0 && l.IsView).ToArray();
        var logitGradient = new float[batch * 10];
        model.EnsureCapacity(batch);
        var defaults = NeuralNetworkCatalog.CnnDefaults;
        var optimizer = Optimizer.Create(defaults.Optimizer, defaults.LearningRate, defaults.Momentum, defaults.WeightDecay);
        var parameters = model.Parameters.ToList();

        var forward = Enumerable.Repeat(double.MaxValue, n).ToArray();
        var backward = Enumerable.Repeat(double.MaxValue, n).ToArray();
        double loss = double.MaxValue, update = double.MaxValue, step = double.MaxValue, stepSum = 0;
        // The first steps run while the JIT still tiers the code up (about 15 steps here), so 20 unmeasured steps
        // come first: the mean is then the sustained step that a training epoch sees.
        const int WarmUpSteps = 20;
        for (int r = -WarmUpSteps; r < reps; r++)
        {
            double stepStart = Now();
            ReadOnlySpan<float> current = input;
            for (int i = 0; i < n; i++)
            {
                double t = Now();
                current = model.ForwardStep(i, current, batch, training: true);
                if (r >= 0) forward[i] = Math.Min(forward[i], (Now() - t));
            }
            double lossStart = Now();
            SoftmaxCrossEntropy.Compute(current, labels, 10, defaults.LabelSmoothing, logitGradient);
            if (r >= 0) loss = Math.Min(loss, (Now() - lossStart));
            ReadOnlySpan<float> gradient = logitGradient;
            for (int i = n - 1; i >= 0; i--)
            {
                double t = Now();
                gradient = model.BackwardStep(i, input, gradient, batch);
                if (r >= 0) backward[i] = Math.Min(backward[i], (Now() - t));
            }
            double updateStart = Now();
            optimizer.Step(parameters);
            if (r >= 0)
            {
                update = Math.Min(update, (Now() - updateStart));
                double stepSeconds = Now() - stepStart;
                step = Math.Min(step, stepSeconds);
                stepSum += stepSeconds;
            }
        }

        double sumParts = forward.Sum() + backward.Sum() + loss + update;
        Console.WriteLine($"One training step of the {networkName}, batch {batch} (best of {reps} per part):");
        Console.WriteLine();
        Console.WriteLine("| layer | forward ms | backward ms | share |");
        Console.WriteLine("|---|--:|--:|--:|");
        for (int i = 0; i < n; i++)
        {
            // Layer numbers are the spec's: "2–3. BatchNorm+ReLU" is layers 2 and 3 run as one fused step.
            string number = steps[i].Count == 1 ? $"{steps[i].First + 1}" : $"{steps[i].First + 1}–{steps[i].First + steps[i].Count}";
            string name = layers[i].Describe() + (view[i] ? " (view, not run)" : "");
            Console.WriteLine($"| {number}. {name} | {forward[i] * 1e3:F2} | {backward[i] * 1e3:F2} | {100 * (forward[i] + backward[i]) / sumParts:F1}% |");
        }
        Console.WriteLine($"| loss | {loss * 1e3:F2} | | {100 * loss / sumParts:F1}% |");
        Console.WriteLine($"| optimizer ({defaults.Optimizer}) | | {update * 1e3:F2} | {100 * update / sumParts:F1}% |");
        // ≈ 194 MFLOP per training image: forward, weight gradient and (but for the first layer) input gradient.
        double flops = 0;
        foreach (var layer in model.Layers)
        {
            double forwardFlops = layer switch
            {
                Conv2D c => 2.0 * layer.OutputShape.Height * layer.OutputShape.Width * c.KernelSize * c.KernelSize * layer.InputShape.Channels * c.Filters,
                Dense => 2.0 * layer.InputShape.Size * layer.OutputShape.Size,
                _ => 0,
            };
            flops += forwardFlops * (ReferenceEquals(layer, model.Layers[0]) ? 2 : 3);
        }
        Console.WriteLine();
        Console.WriteLine($"step {step * 1e3:F1} ms → {batch / step:F0} images/s without augmentation; {flops / 1e6:F0} MFLOP per image → {flops * batch / step / 1e9:F0} GFLOP/s, {100 * flops * batch / step / 1e9 / peak:F0}% of peak");
        // The mean over the reps shows how far sustained training falls from the best step (the trainer's figure is a mean).
        Console.WriteLine($"mean step over {reps} after {WarmUpSteps} warm-up steps: {stepSum / reps * 1e3:F1} ms → {batch / (stepSum / reps):F0} images/s");
        return step;
    }

    // ---------------------------------------------------------------- 3. augmentation

    private static void AugmentationRow(int batch, int reps, double stepSeconds)
    {
        var defaults = NeuralNetworkCatalog.CnnDefaults;
        var augmentation = new RandomAffine(defaults.Rotation, defaults.Zoom, defaults.Shift);
        var random = new Random(3);
        var source = Enumerable.Range(0, batch * 784).Select(_ => (float)random.NextDouble()).ToArray();
        var destination = new float[source.Length];
        double best = double.MaxValue;
        for (int r = -1; r < reps; r++)
        {
            double t = Time(() => Augment(augmentation, source, destination, batch, r));
            if (r >= 0) best = Math.Min(best, t);
        }
        Console.WriteLine($"augmentation (RandomAffine, as the trainer runs it): {best * 1e3:F2} ms per batch = {100 * best / (best + stepSeconds):F1}% of an augmented step");
    }

    /// <summary>As NeuralTrainer does it: the batch's images split between the workers, each image seeded by its position.</summary>
    private static void Augment(RandomAffine augmentation, float[] source, float[] destination, int batch, int epochSeed)
    {
        int threads = Math.Min(ComputeSettings.Threads, batch);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, w =>
        {
            for (int i = batch * w / threads; i < batch * (w + 1) / threads; i++)
                augmentation.Apply(source.AsSpan(i * 784, 784), destination.AsSpan(i * 784, 784), 28, 28, epochSeed * 1000 + i);
        });
    }
}
