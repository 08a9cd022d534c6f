using System.Diagnostics;
using System.Numerics.Tensors;
using Mnist.Baselines.Common;
using Mnist.Core.Data;
using Mnist.Core.Numerics;
using Mnist.Core.Training;

namespace Mnist.Baselines.LinearSvm;

/// <summary>Hyperparameters of <see cref="LinearSvmTrainer"/>; keys of <see cref="ToDictionary"/> are the --param names.</summary>
public sealed record LinearSvmOptions
{
    public const string CName = "c";
    public const string MaxEpochsName = "max-epochs";
    public const string ToleranceName = "tolerance";
    public const string SeedName = "seed";
    public const string ShrinkingName = "shrinking";

    /// <summary>C in ½‖w‖² + C Σ max(0, 1 − y wᵀx)² (per binary problem, summed over the n images).</summary>
    public double C { get; init; } = 0.05;

    /// <summary>Cap on coordinate-descent epochs (LIBLINEAR outer iterations) per class.</summary>
    public int MaxEpochs { get; init; } = 100;

    /// <summary>LIBLINEAR's ε: stop when the projected-gradient gap over all variables is ≤ this.</summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>Seeds the per-class permutation streams (class k uses seed·31 + k).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>LIBLINEAR's shrinking heuristic (skip variables stuck at 0).</summary>
    public bool Shrinking { get; init; } = true;

    public static LinearSvmOptions FromParameters(TrainerParameters parameters)
    {
        var defaults = new LinearSvmOptions();
        var options = new LinearSvmOptions
        {
            C = parameters.Double(CName, defaults.C),
            MaxEpochs = parameters.Int(MaxEpochsName, defaults.MaxEpochs),
            Tolerance = parameters.Double(ToleranceName, defaults.Tolerance),
            Seed = parameters.Int(SeedName, defaults.Seed),
            Shrinking = parameters.Bool(ShrinkingName, defaults.Shrinking),
        };
        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (!(C > 0) || double.IsInfinity(C)) throw new ArgumentException($"Hyperparameter '{CName}' must be a finite value > 0, not {C}.");
        if (MaxEpochs < 1) throw new ArgumentException($"Hyperparameter '{MaxEpochsName}' must be ≥ 1, not {MaxEpochs}.");
        if (!(Tolerance > 0) || double.IsInfinity(Tolerance)) throw new ArgumentException($"Hyperparameter '{ToleranceName}' must be a finite value > 0, not {Tolerance}.");
    }

    public IReadOnlyDictionary<string, object> ToDictionary() => new Dictionary<string, object>
    {
        [CName] = C,
        [MaxEpochsName] = MaxEpochs,
        [ToleranceName] = Tolerance,
        [SeedName] = Seed,
        [ShrinkingName] = Shrinking,
    };

    internal void Write(BinaryWriter writer)
    {
        writer.Write(C);
        writer.Write(MaxEpochs);
        writer.Write(Tolerance);
        writer.Write(Seed);
        writer.Write(Shrinking);
    }

    internal static LinearSvmOptions Read(BinaryReader reader)
    {
        var options = new LinearSvmOptions
        {
            C = reader.ReadDouble(),
            MaxEpochs = reader.ReadInt32(),
            Tolerance = reader.ReadDouble(),
            Seed = reader.ReadInt32(),
            Shrinking = reader.ReadBoolean(),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        return options;
    }
}

/// <summary>
/// One-vs-rest multiclass linear SVM with the squared hinge loss (scikit-learn's LinearSVC default),
/// each of the 10 binary problems solved in the dual by LIBLINEAR's coordinate descent. The problems
/// run in parallel (bounded by ComputeSettings); each has its own seeded permutation stream, so the
/// result does not depend on the thread count.
/// </summary>
public sealed class LinearSvmTrainer(LinearSvmOptions options) : ITrainer
{
    public const string TrainerName = "linear-svm";
    private const int Classes = DigitDataView.ClassCount;

    public LinearSvmTrainer() : this(new LinearSvmOptions()) { }

    public LinearSvmOptions Options { get; } = Validated(options);

    public string Name => TrainerName;

    public IReadOnlyDictionary<string, object> Hyperparameters => Options.ToDictionary();

    public ITrainedModel Fit(
        DigitDataView train,
        DigitDataView? validation = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!train.HasLabels) throw new ArgumentException("The training data has no labels.", nameof(train));
        if (train.Count == 0) throw new ArgumentException("The training data is empty.", nameof(train));
        if (validation is not null && (!validation.HasLabels || validation.PixelCount != train.PixelCount))
            throw new ArgumentException("The validation data must be labelled and have the training data's image size.", nameof(validation));
        cancellationToken.ThrowIfCancellationRequested();

        var data = train.Materialize();
        int n = data.Count, d = data.PixelCount;
        byte[] labels = data.GetLabels();
        var validationData = validation is { Count: > 0 } ? validation.Materialize() : null;
        int[]? validationLabels = validationData is null ? null : Array.ConvertAll(validationData.GetLabels(), b => (int)b);

        // Q̄ᵢᵢ = ‖xᵢ‖² + B² + 1/(2C), shared by the 10 problems.
        var diagonal = new double[n];
        ReadOnlySpan<float> pixels = data.ContiguousPixels;
        double dii = 0.5 / Options.C;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> x = pixels.Slice(i * d, d);
            diagonal[i] = TensorPrimitives.Dot(x, x) + DualCoordinateDescent.BiasFeature * DualCoordinateDescent.BiasFeature + dii;
        }

        var solvers = new DualCoordinateDescent[Classes];
        for (int k = 0; k < Classes; k++)
        {
            var y = new sbyte[n];
            for (int i = 0; i < n; i++) y[i] = labels[i] == k ? (sbyte)1 : (sbyte)-1;
            solvers[k] = new DualCoordinateDescent(data, diagonal, y, Options.C, Options.Tolerance, Options.Shrinking, unchecked(Options.Seed * 31 + k));
        }

        var history = new TrainingHistory();
        var trainScores = new float[n * Classes];
        var validationScores = validationData is null ? null : new float[validationData.Count * Classes];
        var clock = Stopwatch.StartNew();
        double lastSeconds = 0;
        int epoch = 0;
        while (epoch < Options.MaxEpochs && solvers.Any(s => !s.Converged))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Lock-step epochs: each class's solver is independent, so the parallel schedule cannot change results.
            Parallel.For(0, Classes, ComputeSettings.ParallelOptions(cancellationToken: cancellationToken), k => solvers[k].RunEpoch());
            epoch++;

            {
                var weights = ToWeights(solvers, d);
                var (loss, accuracy) = TrainFigures(weights, data, labels, solvers, trainScores);
                double? validationAccuracy = null;
                if (validationData is not null)
                {
                    weights.Scores(validationData, validationScores!);
                    validationAccuracy = Core.Evaluation.Evaluator.FromProbabilities(validationLabels!, validationScores, calibrated: false).Accuracy;
                }
                double now = clock.Elapsed.TotalSeconds;
                double seconds = now - lastSeconds;
                lastSeconds = now;
                int active = solvers.Sum(s => s.Converged ? 0 : s.ActiveSize);
                var record = new EpochRecord(epoch, loss, accuracy, null, validationAccuracy, 0, seconds,
                    seconds > 0 ? n / seconds : 0);
                history.Add(record);
                progress?.Report(new TrainingProgress((double)epoch / Options.MaxEpochs,
                    $"dual CD epoch {epoch}/{Options.MaxEpochs} ({solvers.Count(s => s.Converged)}/10 converged, {active} active)", record));
            }
        }
        progress?.Report(new TrainingProgress(1.0, $"dual CD done after {epoch} epochs; {solvers.Count(s => s.Converged)}/10 classes converged"));
        return new LinearSvmModel(Options, ToWeights(solvers, d), history);
    }

    private static LinearWeights ToWeights(DualCoordinateDescent[] solvers, int d)
    {
        var weights = new float[d * Classes];
        var bias = new float[Classes];
        for (int k = 0; k < Classes; k++)
        {
            float[] w = solvers[k].Weights;
            for (int j = 0; j < d; j++) weights[j * Classes + k] = w[j];
            bias[k] = (float)(solvers[k].BiasWeight * DualCoordinateDescent.BiasFeature);
        }
        return new LinearWeights(d, weights, bias);
    }

    /// <summary>
    /// Mean over images of Σ_k [max(0, 1 − y s)² ] plus Σ_k ‖w_k‖²/(2Cn): the summed primal objectives
    /// divided by C·n; and the training accuracy of the argmax decision.
    /// </summary>
    private (double Loss, double Accuracy) TrainFigures(LinearWeights weights, DigitDataView data, byte[] labels, DualCoordinateDescent[] solvers, float[] scores)
    {
        weights.Scores(data, scores);
        double hinge = 0;
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            ReadOnlySpan<float> row = scores.AsSpan(i * Classes, Classes);
            if (TensorPrimitives.IndexOfMax(row) == labels[i]) correct++;
            for (int k = 0; k < Classes; k++)
            {
                double margin = 1 - (labels[i] == k ? 1 : -1) * (double)row[k];
                if (margin > 0) hinge += margin * margin;
            }
        }
        double norms = solvers.Sum(s => (double)TensorPrimitives.Dot<float>(s.Weights, s.Weights) + s.BiasWeight * s.BiasWeight);
        return ((hinge + norms / (2 * Options.C)) / data.Count, (double)correct / data.Count);
    }

    private static LinearSvmOptions Validated(LinearSvmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }
}

/// <summary>
/// A fitted one-vs-rest linear SVM. <see cref="PredictProbabilities"/> returns the softmax of the
/// decision scores X·W + b (argmax = the SVM's decision), which are not calibrated probabilities.
/// </summary>
public sealed class LinearSvmModel : ITrainedModel
{
    private const int PayloadVersion = 1;
    private readonly LinearWeights _weights;

    internal LinearSvmModel(LinearSvmOptions options, LinearWeights weights, TrainingHistory? history)
    {
        Options = options;
        _weights = weights;
        History = history;
    }

    public LinearSvmOptions Options { get; }
    public string TrainerName => LinearSvmTrainer.TrainerName;
    public IReadOnlyDictionary<string, object> Hyperparameters => Options.ToDictionary();
    public bool HasCalibratedProbabilities => false;
    public TrainingHistory? History { get; }
    public int Features => _weights.Features;

    /// <summary>A copy of the weights (Features × 10, row-major; column k is class k's w).</summary>
    public float[] GetWeights() => (float[])_weights.Weights.Clone();

    public float[] GetBias() => (float[])_weights.Bias.Clone();

    /// <summary>The raw decision scores X·W + b (data.Count × 10).</summary>
    public float[] DecisionScores(DigitDataView data)
    {
        var scores = new float[data.Count * DigitDataView.ClassCount];
        _weights.Scores(data, scores);
        return scores;
    }

    public void PredictProbabilities(DigitDataView data, Span<float> probabilities) => _weights.SoftmaxScores(data, probabilities);

    public void WritePayload(BinaryWriter writer)
    {
        writer.Write(PayloadVersion);
        Options.Write(writer);
        _weights.Write(writer);
    }

    public static LinearSvmModel Load(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != PayloadVersion) throw new InvalidDataException($"Unsupported linear-svm payload version {version}.");
        var options = LinearSvmOptions.Read(reader);
        var weights = LinearWeights.Read(reader);
        return new LinearSvmModel(options, weights, history: null);
    }
}
