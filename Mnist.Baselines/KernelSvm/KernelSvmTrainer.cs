using System.Diagnostics;
using Mnist.Baselines.Common;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Baselines.KernelSvm;

/// <summary>
/// RBF-kernel SVM, one-vs-one as in libsvm / scikit-learn's SVC: one exact binary C-SVC per pair of classes
/// (45), each solved by SMO (<see cref="SmoSolver"/>) over its full kernel matrix, which one blocked GEMM
/// per row block computes up front (a pair of MNIST classes is ≤ ~12k images: ≤ ~550 MB of floats).
/// </summary>
/// <remarks>
/// Pairs are solved one after another; each pair's kernel matrix is built by parallel GEMM row blocks (bounded
/// by <see cref="ComputeSettings.Threads"/>) into one reused native buffer (≈ 0.55 GB for the largest pair of 54k MNIST
/// images, freed when the fit ends; the training images are gathered per pair, never copied whole), then SMO runs on one thread (a few
/// thousand steps per pair, a small share of the time). Every value depends only on the data, so the model is
/// identical for any thread count; there is nothing random to seed. The validation set, when given, is scored for
/// the history.
/// </remarks>
public sealed class KernelSvmTrainer(KernelSvmOptions options) : SchemaTrainer<KernelSvmOptions>(TrainerName, KernelSvmOptions.Schema, options)
{
    public const string TrainerName = "kernel-svm";
    private const int Classes = DigitDataView.ClassCount;

    /// <summary>SMO steps between cancellation checks.</summary>
    private const int StepsPerCheck = 2000;

    public KernelSvmTrainer() : this(new KernelSvmOptions()) { }

    private protected override ITrainedModel FitChecked(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int n = train.Count, d = train.PixelCount;
        byte[] labels = train.GetLabels();
        var members = new List<int>[Classes];
        for (int c = 0; c < Classes; c++) members[c] = [];
        for (int i = 0; i < n; i++) members[labels[i]].Add(i);
        int present = members.Count(m => m.Count > 0);
        if (present < 2) throw new ArgumentException("The training data needs images of at least two classes.", nameof(train));

        float gamma = (float)Options.Gamma;
        var pairs = new List<(int A, int B)>();
        for (int a = 0; a < Classes; a++)
            for (int b = a + 1; b < Classes; b++) pairs.Add((a, b));
        var results = new PairResult[pairs.Count];
        int largest = pairs.Max(p => members[p.A].Count + members[p.B].Count);
        if ((long)largest * largest > Array.MaxLength)
            throw new ArgumentException($"The largest pair of classes has {largest} images; its {largest}×{largest} kernel matrix does not fit one array.", nameof(train));
        // One pair at a time, its kernel matrix built with every allowed thread: a single kernel buffer (≈ 0.55 GB on
        // 54k MNIST images); SMO itself is a small serial part. Both buffers are native and freed when the fit ends,
        // so the next trainer's memory does not stack on them (see NativeBuffer).
        using var rows = new NativeBuffer((long)largest * d);
        using var kernel = new NativeBuffer((long)largest * largest);
        for (int p = 0; p < pairs.Count; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (a, b) = pairs[p];
            var pairClock = Stopwatch.StartNew();
            results[p] = SolvePair(train, members[a], members[b], gamma, rows, kernel, cancellationToken);
            double seconds = pairClock.Elapsed.TotalSeconds;
            progress?.Report(new TrainingProgress(0.95 * (p + 1) / pairs.Count,
                $"pair {a}v{b}: {members[a].Count + members[b].Count} images, {results[p].Iterations} SMO steps, " +
                $"{results[p].SupportCount} support vectors{(results[p].Converged ? "" : " (iteration cap)")}, {seconds:F1} s ({p + 1}/{pairs.Count})"));
        }

        var model = KernelSvmModel.Build(Options, train, pairs, results);
        double? validationAccuracy = null;
        if (validation is { HasLabels: true, Count: > 0 })
        {
            progress?.Report(new TrainingProgress(0.97, $"scoring {validation.Count} validation images"));
            validationAccuracy = Core.Evaluation.Evaluator.Evaluate(model, validation).Accuracy;
        }
        var history = model.History = SingleFitHistory(n, clock.Elapsed.TotalSeconds, validationAccuracy);
        int unconverged = results.Count(r => !r.Converged);
        progress?.Report(new TrainingProgress(1.0,
            $"{pairs.Count} binary SVMs, {model.SupportVectorCount} distinct support vectors, {results.Sum(r => r.Iterations)} SMO steps" +
            (unconverged > 0 ? $", {unconverged} stopped at the iteration cap" : ""), history.Epochs[0]));
        return model;
    }

    /// <summary>Class a is +1, class b is −1 (libsvm's order: a positive decision votes for a).</summary>
    private PairResult SolvePair(DigitDataView train, List<int> a, List<int> b, float gamma, NativeBuffer rows, NativeBuffer kernel, CancellationToken cancellationToken)
    {
        int n = a.Count + b.Count;
        var indices = new int[n];
        a.CopyTo(indices);
        b.CopyTo(indices, a.Count);
        var y = new sbyte[n];
        for (int i = 0; i < n; i++) y[i] = i < a.Count ? (sbyte)1 : (sbyte)-1;
        if (a.Count == 0 || b.Count == 0)
            return new PairResult(indices, new double[n], y, a.Count > 0 ? -1 : 1, 0, true);

        int d = train.PixelCount;
        train.GatherPixels(indices, rows.GetSpan());
        float[] norms = Kernels.SquaredNorms(rows.GetSpan(), n, d);
        RbfKernel.Symmetric(rows.Memory, norms, n, d, gamma, kernel.Memory, cancellationToken: cancellationToken);

        var solver = new SmoSolver(kernel.Memory, y, Options.C, Options.Tolerance);
        long remaining = Options.MaxIterations;
        while (remaining > 0 && !solver.Converged)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long steps = Math.Min(StepsPerCheck, remaining);
            solver.Run(steps);
            remaining -= steps;
        }
        return new PairResult(indices, solver.Alpha.ToArray(), y, solver.Rho(), solver.Iterations, solver.Converged);
    }

}

/// <summary>One binary problem's solution: training indices (class a first), dual variables, targets and ρ.</summary>
internal sealed record PairResult(int[] Indices, double[] Alpha, sbyte[] Y, double Rho, int Iterations, bool Converged)
{
    public int SupportCount => Alpha.Count(a => a > 0);
}
