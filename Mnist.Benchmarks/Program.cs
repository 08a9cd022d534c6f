using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Mnist.Benchmarks;

// `dotnet run -c Release --project Mnist.Benchmarks -- quick` prints the GFLOP/s table (see QuickBench);
// `-- gbdt-kernels` times the gradient-boosted tree builder's kernels (see GbdtKernelBench);
// `-- onnx MODEL.model` compares our predict with ONNX Runtime on the model's export (see OnnxLatencyBench);
// anything else goes to BenchmarkDotNet, e.g. `-- --filter *SquareGemm*`. BenchmarkDotNet runs in-process
// (no per-benchmark project build) with a short job, since a full default run of every size takes very long.
if (args.Length > 0 && args[0] == "onnx")
{
    OnnxLatencyBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "quick")
{
    QuickBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "gbdt-kernels")
{
    GbdtKernelBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "mlnet-adapter")
{
    MlNetAdapterBench.Run(args[1..]);
    return;
}
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args, config);
