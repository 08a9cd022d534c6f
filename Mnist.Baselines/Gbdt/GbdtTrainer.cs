using System.Collections.Concurrent;
using System.Diagnostics;
using Mnist.Baselines.Common;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// Histogram gradient-boosted decision trees with the softmax (multinomial log-loss) objective, one
/// tree per class per round (as LightGBM and FastTree do). Pixels are binned exactly on their byte
/// value; trees grow leaf-wise with histogram subtraction. The ten class trees of a round are built
/// in parallel, each by one thread from start to finish, so the result is the same for any thread count.
/// </summary>
public sealed class GbdtTrainer(GbdtOptions options) : SchemaTrainer<GbdtOptions>(TrainerName, GbdtOptions.Schema, options)
{
    private const int ClassCount = DigitDataView.ClassCount;
    private const int Chunk = 4096;

    public const string TrainerName = "gbdt";

    public GbdtTrainer() : this(new GbdtOptions()) { }

    /// <summary>False builds every node's histogram directly instead of parent − sibling (for tests).</summary>
    internal bool SubtractHistograms { get; init; } = true;

    private protected override ITrainedModel FitChecked(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new TrainingProgress(0, "binning"));
        var times = new GbdtPhaseTimes();
        long binningStart = Stopwatch.GetTimestamp();
        PackedSums.For(train.Count); // refuses a training set too large for the packed histograms here, not inside the worker threads
        var data = BinnedData.Create(train);
        int n = data.Count;
        byte[] labels = train.GetLabels();
        byte[]? validationBins = validation is null ? null : BinnedData.RowMajorBins(validation);
        byte[]? validationLabels = validation?.GetLabels();
        int validationCount = validation?.Count ?? 0;
        times.Binning = Stopwatch.GetTimestamp() - binningStart;

        // Start from the log class priors.
        var baseScores = new float[ClassCount];
        var classCounts = new int[ClassCount];
        foreach (byte label in labels) classCounts[label]++;
        for (int c = 0; c < ClassCount; c++) baseScores[c] = (float)Math.Log(Math.Max((double)classCounts[c] / n, 1e-15));

        var scores = new float[ClassCount][];
        var gradients = new float[ClassCount][];
        var hessians = new float[ClassCount][];
        var validationScores = new float[ClassCount][];
        for (int c = 0; c < ClassCount; c++)
        {
            scores[c] = new float[n];
            scores[c].AsSpan().Fill(baseScores[c]);
            gradients[c] = new float[n];
            hessians[c] = new float[n];
            validationScores[c] = new float[validationCount];
            validationScores[c].AsSpan().Fill(baseScores[c]);
        }
        ComputeGradients(scores, labels, gradients, hessians);

        var builders = new ConcurrentBag<TreeBuilder>();
        var trees = new List<RegressionTree>();
        var roundTrees = new RegressionTree[ClassCount];
        var history = new TrainingHistory();
        var parallel = ComputeSettings.ParallelOptions(cancellationToken: cancellationToken);
        bool earlyStopping = Options.EarlyStoppingRounds > 0 && validation is not null;
        double bestLoss = double.PositiveInfinity;
        int bestRound = 0;
        string? stopReason = null;

        for (int round = 1; round <= Options.Rounds; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            Parallel.For(0, ClassCount, parallel,
                () => builders.TryTake(out var builder) ? builder : new TreeBuilder(data, Options, SubtractHistograms),
                (c, _, builder) =>
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var tree = builder.Build(gradients[c], hessians[c], SelectFeatures(data.FeatureCount, round, c), scores[c], Seeds.Derive(Options.Seed, round, ~c));
                    roundTrees[c] = tree;
                    if (validationBins is not null)
                    {
                        long start = Stopwatch.GetTimestamp();
                        var target = validationScores[c];
                        int pixels = data.PixelCount;
                        for (int j = 0; j < target.Length; j++) target[j] += tree.Evaluate(validationBins.AsSpan(j * pixels, pixels));
                        builder.Times.Validation += Stopwatch.GetTimestamp() - start;
                    }
                    return builder;
                },
                builders.Add);
            trees.AddRange(roundTrees);

            long gradientStart = Stopwatch.GetTimestamp();
            var (trainLoss, trainAccuracy) = ComputeGradients(scores, labels, gradients, hessians);
            times.Gradients += Stopwatch.GetTimestamp() - gradientStart;
            double? validationLoss = null, validationAccuracy = null;
            if (validationLabels is not null)
            {
                var (loss, accuracy) = Evaluate(validationScores, validationLabels);
                validationLoss = loss;
                validationAccuracy = accuracy;
            }
            double seconds = watch.Elapsed.TotalSeconds;
            var record = new EpochRecord(round, trainLoss, trainAccuracy, validationLoss, validationAccuracy, Options.LearningRate, seconds, n / Math.Max(seconds, 1e-9));
            history.Add(record);
            progress?.Report(new TrainingProgress((double)round / Options.Rounds, $"round {round}/{Options.Rounds}", record));

            if (earlyStopping)
            {
                if (validationLoss!.Value < bestLoss)
                {
                    bestLoss = validationLoss.Value;
                    bestRound = round;
                }
                else if (round - bestRound >= Options.EarlyStoppingRounds)
                {
                    stopReason = $"early stopping: validation log-loss did not improve for {Options.EarlyStoppingRounds} rounds after round {bestRound}";
                    break;
                }
            }
        }

        int kept = earlyStopping ? bestRound : trees.Count / ClassCount;
        foreach (var builder in builders) times.AddTreePhases(builder.Times);
        var model = new GbdtModel(data.PixelCount, baseScores, trees.Take(kept * ClassCount).ToArray(), Options, history, kept, stopReason) { FitTimes = times };
        progress?.Report(new TrainingProgress(1, (stopReason is null ? "done" : $"stopped at round {history.Epochs.Count}, kept {kept}") + $"; {times}", Milestone: true));
        return model;
    }

    /// <summary>The used features tree (round, class) may split on: all, or a seeded sample of feature-fraction of them (ascending).</summary>
    internal int[] SelectFeatures(int featureCount, int round, int classIndex)
    {
        var all = new int[featureCount];
        for (int u = 0; u < featureCount; u++) all[u] = u;
        if (Options.FeatureFraction >= 1) return all;
        int take = Math.Clamp((int)Math.Round(Options.FeatureFraction * featureCount), 1, featureCount);
        var random = new Random(Seeds.Derive(Options.Seed, round, classIndex));
        for (int k = 0; k < take; k++)
        {
            int swap = random.Next(k, featureCount);
            (all[k], all[swap]) = (all[swap], all[k]);
        }
        var selected = all[..take];
        Array.Sort(selected);
        return selected;
    }

    /// <summary>
    /// Softmax gradients g = p − y and hessians h = p(1 − p) of every sample and class from the
    /// running scores; returns the mean log-loss and accuracy of those scores. Chunks are fixed in
    /// size and their partial sums added in order, so the figures do not depend on the thread count.
    /// </summary>
    private static (double Loss, double Accuracy) ComputeGradients(float[][] scores, byte[] labels, float[][] gradients, float[][] hessians)
    {
        int n = labels.Length;
        int chunks = (n + Chunk - 1) / Chunk;
        var losses = new double[chunks];
        var correct = new int[chunks];
        Parallel.For(0, chunks, ComputeSettings.ParallelOptions(), chunk =>
        {
            Span<float> row = stackalloc float[ClassCount];
            double loss = 0;
            int right = 0;
            int end = Math.Min(n, (chunk + 1) * Chunk);
            for (int i = chunk * Chunk; i < end; i++)
            {
                for (int c = 0; c < ClassCount; c++) row[c] = scores[c][i];
                int label = labels[i];
                loss += RowLoss(row, label, ref right);
                GbdtModel.Softmax(row);
                for (int c = 0; c < ClassCount; c++)
                {
                    float p = row[c];
                    gradients[c][i] = c == label ? p - 1f : p;
                    hessians[c][i] = p * (1f - p);
                }
            }
            losses[chunk] = loss;
            correct[chunk] = right;
        });
        return (losses.Sum() / n, (double)correct.Sum() / n);
    }

    private static (double Loss, double Accuracy) Evaluate(float[][] scores, byte[] labels)
    {
        Span<float> row = stackalloc float[ClassCount];
        double loss = 0;
        int right = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            for (int c = 0; c < ClassCount; c++) row[c] = scores[c][i];
            loss += RowLoss(row, labels[i], ref right);
        }
        return (loss / labels.Length, (double)right / labels.Length);
    }

    /// <summary>−log softmax(row)[label] in double, counting a correct argmax (first maximum wins, as in evaluation).</summary>
    private static double RowLoss(ReadOnlySpan<float> row, int label, ref int correct)
    {
        if (Kernels.ArgMax(row) == label) correct++;
        return Kernels.LogLossFromScores(row, label);
    }
}
