using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Mnist.Benchmarks;

// `dotnet run -c Release --project Mnist.Benchmarks -- quick` prints the GFLOP/s table (see QuickBench);
// `-- conv --threads 2` times the cnn's convolutions, a training step and augmentation (see ConvBench);
// `-- gbdt-kernels` times the gradient-boosted tree builder's kernels (see GbdtKernelBench);
// `-- onnx MODEL.model` compares our predict with ONNX Runtime on the model's export (see OnnxLatencyBench);
// anything else goes to BenchmarkDotNet, e.g. `-- --filter *SquareGemm*`. BenchmarkDotNet runs in-process
// (no per-benchmark project build) with a short job, since a full default run of every size takes very long.
// The quick tables, by their first argument; the rest of the arguments go to the table.
var tables = new Dictionary<string, Action<string[]>>
{
    ["onnx"] = OnnxLatencyBench.Run,
    ["quick"] = QuickBench.Run,
    ["conv"] = ConvBench.Run,
    ["gbdt-kernels"] = GbdtKernelBench.Run,
    ["mlnet-adapter"] = MlNetAdapterBench.Run,
};
if (args.Length > 0 && tables.TryGetValue(args[0], out var table))
{
    try
    {
        table(args[1..]);
    }
    catch (ArgumentException e) // a table's option check (--network, --cpu-time with --threads): one line, not a trace
    {
        Console.Error.WriteLine($"error: {args[0]}: {e.Message}");
        Environment.ExitCode = 2;
    }
    return;
}
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args, config);
