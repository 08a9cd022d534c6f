using BenchmarkDotNet.Running;
using Mnist.Benchmarks;

// `dotnet run -c Release --project Mnist.Benchmarks -- quick` prints the GFLOP/s table;
// anything else goes to BenchmarkDotNet (e.g. `-- --filter *Gemm*`).
if (args.Length > 0 && args[0] == "quick")
    QuickBench.Run(args[1..]);
else
    BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args);
