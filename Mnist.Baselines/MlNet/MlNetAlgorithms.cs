using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Mnist.Core.Training;

namespace Mnist.Baselines.MlNet;

/// <summary>
/// A hyperparameter of an ML.NET trainer: its --param name, default (ML.NET's), inclusive range and what it sets;
/// <see cref="MlNetAlgorithm.Schema"/> declares it to the trainer's <see cref="HyperparameterSchema{TOptions}"/>.
/// </summary>
/// <param name="Default">An int, double or bool; its type is the parameter's type.</param>
/// <param name="Min">Inclusive lower bound (<see cref="double.Epsilon"/>: above 0; the type's minimum: none).</param>
/// <param name="Max">Inclusive upper bound (the type's maximum: none).</param>
internal sealed record MlNetParameter(string Name, object Default, double Min, double Max, string Doc);

/// <summary>
/// One ML.NET multiclass trainer as a catalog entry: its declared hyperparameters and how they become
/// ML.NET options. ML.NET's defaults are kept; a 0 where ML.NET's option is nullable means "ML.NET's
/// automatic choice" (the trainer's log says what it chose).
/// </summary>
internal abstract class MlNetAlgorithm
{
    public const string SeedName = "seed";
    private HyperparameterSchema<MlNetHyperparameters>? _schema;

    public abstract string Name { get; }
    public abstract string Description { get; }
    protected abstract IReadOnlyList<MlNetParameter> Parameters { get; }

    /// <summary>The hyperparameters as a schema: parsing, ranges, results.json and model files derive from it.</summary>
    public HyperparameterSchema<MlNetHyperparameters> Schema => _schema ??= Declare(Parameters);

    /// <summary>"Training learner k" in ML.NET's log counts one-vs-all learners of this many.</summary>
    public virtual int OneVersusAllLearners => 0;

    /// <summary>The estimator for resolved hyperparameters, using at most <paramref name="threads"/> threads.</summary>
    public abstract IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters values, int threads);

    private static HyperparameterSchema<MlNetHyperparameters> Declare(IReadOnlyList<MlNetParameter> parameters)
    {
        var schema = new HyperparameterSchema<MlNetHyperparameters>(new MlNetHyperparameters(parameters.ToDictionary(p => p.Name, p => p.Default)));
        foreach (var p in parameters)
        {
            string name = p.Name;
            schema = p.Default switch
            {
                int when name == SeedName => schema.Seed(o => o.Int(name), (o, v) => o.With(name, v), p.Doc),
                int => schema.Int(name, o => o.Int(name), (o, v) => o.With(name, v), p.Doc,
                    min: p.Min <= int.MinValue ? null : (int)p.Min, max: p.Max >= int.MaxValue ? null : (int)p.Max),
                double => schema.Double(name, o => o.Double(name), (o, v) => o.With(name, v), p.Doc,
                    min: p.Min == double.Epsilon || p.Min <= double.MinValue ? null : p.Min, above: p.Min == double.Epsilon ? 0 : null,
                    max: p.Max >= double.MaxValue ? null : p.Max),
                bool => schema.Bool(name, o => o.Bool(name), (o, v) => o.With(name, v), p.Doc),
                _ => throw new InvalidOperationException($"Parameter '{name}' has an unsupported type."),
            };
        }
        return schema;
    }

    protected static MlNetParameter Seed() => new(SeedName, 42, int.MinValue, int.MaxValue, "MLContext seed (and the trainer's own seed where it has one)");

    /// <summary>ML.NET's nullable options: 0 means "let ML.NET choose".</summary>
    protected static int? Auto(int value) => value == 0 ? null : value;
    protected static float? Auto(double value) => value == 0 ? null : (float)value;
    protected static double? AutoDouble(double value) => value == 0 ? null : value;
}

/// <summary>Resolved hyperparameters of an ML.NET trainer, by name (the options record of its schema).</summary>
internal sealed class MlNetHyperparameters(IReadOnlyDictionary<string, object> values)
{
    public IReadOnlyDictionary<string, object> Values { get; } = values;
    public int Int(string name) => (int)Values[name];
    public double Double(string name) => (double)Values[name];
    public bool Bool(string name) => (bool)Values[name];
    public int Seed => Int(MlNetAlgorithm.SeedName);

    /// <summary>A copy with <paramref name="name"/> set to <paramref name="value"/>.</summary>
    public MlNetHyperparameters With(string name, object value) =>
        new(new Dictionary<string, object>(Values, StringComparer.Ordinal) { [name] = value });
}

/// <summary>mlnet-maxent: L-BFGS maximum entropy (multinomial logistic regression).</summary>
internal sealed class MaxEntAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-maxent";
    public override string Description => "ML.NET LbfgsMaximumEntropy: multinomial logistic regression by L-BFGS";
    protected override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("l2", 1.0, 0, double.MaxValue, "L2 regularization weight"),
        new("l1", 1.0, 0, double.MaxValue, "L1 regularization weight"),
        new("tolerance", 1e-7, double.Epsilon, double.MaxValue, "optimization tolerance (> 0)"),
        new("history-size", 20, 1, 1000, "L-BFGS memory"),
        new("max-iterations", int.MaxValue, 1, int.MaxValue, "iteration cap"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            L2Regularization = (float)v.Double("l2"),
            L1Regularization = (float)v.Double("l1"),
            OptimizationTolerance = (float)v.Double("tolerance"),
            HistorySize = v.Int("history-size"),
            MaximumNumberOfIterations = v.Int("max-iterations"),
            NumberOfThreads = threads,
        });
}

/// <summary>mlnet-sdca: stochastic dual coordinate ascent on the maximum-entropy loss.</summary>
internal sealed class SdcaAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-sdca";
    public override string Description => "ML.NET SdcaMaximumEntropy: maximum entropy by stochastic dual coordinate ascent, on one thread (reproducible)";
    protected override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("l2", 0.0, 0, double.MaxValue, "L2 regularization (0 = automatic)"),
        new("l1", 0.0, 0, double.MaxValue, "L1 regularization (0 = automatic)"),
        new("max-iterations", 0, 0, int.MaxValue, "passes over the data (0 = automatic)"),
        new("tolerance", 0.1, double.Epsilon, double.MaxValue, "convergence tolerance (duality gap, > 0)"),
        new("shuffle", true, 0, 0, "shuffle the data every pass"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
        {
            L2Regularization = Auto(v.Double("l2")),
            L1Regularization = Auto(v.Double("l1")),
            MaximumNumberOfIterations = Auto(v.Int("max-iterations")),
            ConvergenceTolerance = (float)v.Double("tolerance"),
            Shuffle = v.Bool("shuffle"),
            // ML.NET's SDCA updates the shared weights from several threads without locks, so two runs on more than
            // one thread differ (91.21, 91.57, 91.63 % at one seed). On one thread a seed gives one model.
            NumberOfThreads = 1,
        });
}

/// <summary>mlnet-linear-svm: one-vs-all over ML.NET's Pegasos linear SVM, Platt-calibrated.</summary>
internal sealed class LinearSvmAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-linear-svm";
    public override string Description => "ML.NET OneVersusAll(LinearSvm): Pegasos linear SVMs, one per digit, Platt-calibrated";
    public override int OneVersusAllLearners => 10;
    protected override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("lambda", 0.001, 0, double.MaxValue, "regularization"),
        new("iterations", 1, 1, int.MaxValue, "passes over the data"),
        new("batch-size", 1, 1, int.MaxValue, "examples per Pegasos step"),
        new("projection", false, 0, 0, "project onto the unit ball after each step"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.LinearSvm(new LinearSvmTrainer.Options
        {
            Lambda = (float)v.Double("lambda"),
            NumberOfIterations = v.Int("iterations"),
            BatchSize = v.Int("batch-size"),
            PerformProjection = v.Bool("projection"),
        }));
}

/// <summary>mlnet-fasttree: one-vs-all over FastTree binary boosted trees (the design card's Microsoft.ML.FastTree).</summary>
internal sealed class FastTreeAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-fasttree";
    public override string Description => "ML.NET OneVersusAll(FastTree): boosted trees, one binary ensemble per digit";
    public override int OneVersusAllLearners => 10;
    protected override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("trees", 100, 1, 100_000, "boosting rounds per digit"),
        new("leaves", 20, 2, 100_000, "leaves per tree"),
        new("min-leaf", 10, 1, int.MaxValue, "minimum examples per leaf"),
        new("learning-rate", 0.2, double.Epsilon, double.MaxValue, "shrinkage of each tree"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        new OneVersusAllFittingEachDigitOnce<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>>(ml, () => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            NumberOfTrees = v.Int("trees"),
            NumberOfLeaves = v.Int("leaves"),
            MinimumExampleCountPerLeaf = v.Int("min-leaf"),
            LearningRate = v.Double("learning-rate"),
            Seed = v.Seed,
            FeatureSelectionSeed = v.Seed,
            NumberOfThreads = threads,
        }));
}

/// <summary>mlnet-lightgbm: LightGBM multiclass through ML.NET (needs the native libgomp.so.1).</summary>
internal sealed class LightGbmAlgorithm : MlNetAlgorithm
{
    public override string Name => "mlnet-lightgbm";
    public override string Description => "ML.NET LightGbm multiclass: LightGBM gradient-boosted trees";
    protected override IReadOnlyList<MlNetParameter> Parameters { get; } =
    [
        new("iterations", 100, 1, 100_000, "boosting rounds"),
        new("leaves", 0, 0, 131_072, "leaves per tree (0 = automatic)"),
        new("min-leaf", 0, 0, int.MaxValue, "minimum examples per leaf (0 = automatic)"),
        new("learning-rate", 0.0, 0, double.MaxValue, "shrinkage (0 = automatic)"),
        new("softmax", false, 0, 0, "multiclass softmax objective instead of ML.NET's default one-vs-all"),
        Seed(),
    ];

    public override IEstimator<ITransformer> Build(MLContext ml, MlNetHyperparameters v, int threads) =>
        ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
        {
            NumberOfIterations = v.Int("iterations"),
            NumberOfLeaves = Auto(v.Int("leaves")),
            MinimumExampleCountPerLeaf = Auto(v.Int("min-leaf")),
            LearningRate = AutoDouble(v.Double("learning-rate")),
            UseSoftmax = v.Bool("softmax") ? true : null,
            NumberOfThreads = threads,
            Seed = v.Seed,
            Deterministic = true,
        });
}
