using Mnist.Core.Numerics;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Core.Evaluation;

/// <summary>Precision, recall, F1 and support of one class.</summary>
public sealed record ClassMetrics(int Class, double Precision, double Recall, double F1, int Support);

/// <summary>
/// The immutable outcome of evaluating predictions against true labels: accuracy, the confusion
/// matrix (rows = true class, columns = predicted class), per-class figures, macro-F1 and, where
/// the model gives calibrated probabilities, the mean log-loss.
/// </summary>
public sealed class ClassificationMetrics
{
    private readonly int[] _confusion; // ClassCount × ClassCount, row-major

    internal ClassificationMetrics(int classCount, int[] confusion, double? logLoss)
    {
        ClassCount = classCount;
        _confusion = confusion;
        LogLoss = logLoss;
        Count = confusion.Sum();
        int correct = 0;
        for (int c = 0; c < classCount; c++) correct += confusion[c * classCount + c];
        Correct = correct;
        Accuracy = Count == 0 ? 0 : (double)correct / Count;

        var perClass = new ClassMetrics[classCount];
        for (int c = 0; c < classCount; c++)
        {
            int truePositive = confusion[c * classCount + c];
            int support = 0, predicted = 0;
            for (int o = 0; o < classCount; o++)
            {
                support += confusion[c * classCount + o];
                predicted += confusion[o * classCount + c];
            }
            // scikit-learn's convention: a ratio with a zero denominator is 0.
            double precision = predicted == 0 ? 0 : (double)truePositive / predicted;
            double recall = support == 0 ? 0 : (double)truePositive / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[c] = new ClassMetrics(c, precision, recall, f1, support);
        }
        PerClass = perClass;
        MacroF1 = perClass.Average(m => m.F1);
    }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }
    /// <summary>Number of evaluated images.</summary>
    public int Count { get; }
    /// <summary>Number of correct predictions.</summary>
    public int Correct { get; }
    /// <summary>Fraction of correct predictions, in [0,1].</summary>
    public double Accuracy { get; }
    /// <summary>Unweighted mean of the per-class F1 scores.</summary>
    public double MacroF1 { get; }
    /// <summary>Mean negative log-likelihood of the true class (natural log), or null without calibrated probabilities.</summary>
    public double? LogLoss { get; }
    /// <summary>Precision, recall, F1 and support of each class, in class order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>How many images of class <paramref name="trueClass"/> were predicted as <paramref name="predictedClass"/>.</summary>
    public int this[int trueClass, int predictedClass] => _confusion[trueClass * ClassCount + predictedClass];

    /// <summary>A copy of the confusion matrix as nested arrays (rows = true class).</summary>
    public int[][] ConfusionMatrix()
    {
        var rows = new int[ClassCount][];
        for (int r = 0; r < ClassCount; r++) rows[r] = _confusion.AsSpan(r * ClassCount, ClassCount).ToArray();
        return rows;
    }

    /// <summary>Off-diagonal cells ordered by count, largest first: the most-confused (true, predicted) pairs.</summary>
    public IReadOnlyList<(int True, int Predicted, int Count)> MostConfusedPairs(int top = 5)
    {
        var pairs = new List<(int, int, int)>();
        for (int t = 0; t < ClassCount; t++)
            for (int p = 0; p < ClassCount; p++)
                if (t != p && this[t, p] > 0) pairs.Add((t, p, this[t, p]));
        return pairs.OrderByDescending(x => x.Item3).ThenBy(x => x.Item1).ThenBy(x => x.Item2).Take(top).ToList();
    }
}

/// <summary>Computes <see cref="ClassificationMetrics"/> from labels and predictions or probabilities.</summary>
public static class Evaluator
{
    /// <summary>Smallest probability used in log-loss, as scikit-learn clips (avoids log 0).</summary>
    public const double ProbabilityFloor = Kernels.LogLossFloor;

    /// <summary>Metrics from hard predictions (no log-loss).</summary>
    public static ClassificationMetrics FromPredictions(ReadOnlySpan<int> trueLabels, ReadOnlySpan<int> predicted, int classCount = DigitDataView.ClassCount)
    {
        if (trueLabels.Length != predicted.Length)
            throw new ArgumentException($"{trueLabels.Length} labels but {predicted.Length} predictions.");
        var confusion = new int[classCount * classCount];
        for (int i = 0; i < trueLabels.Length; i++)
        {
            CheckClass(trueLabels[i], classCount);
            CheckClass(predicted[i], classCount);
            confusion[trueLabels[i] * classCount + predicted[i]]++;
        }
        return new ClassificationMetrics(classCount, confusion, null);
    }

    /// <summary>
    /// Metrics from row-major probabilities (count × classCount); the prediction is each row's argmax.
    /// Log-loss is included when <paramref name="calibrated"/> is true.
    /// </summary>
    public static ClassificationMetrics FromProbabilities(ReadOnlySpan<int> trueLabels, ReadOnlySpan<float> probabilities, bool calibrated = true, int classCount = DigitDataView.ClassCount)
    {
        if (probabilities.Length != trueLabels.Length * classCount)
            throw new ArgumentException($"{probabilities.Length} probabilities for {trueLabels.Length} labels × {classCount} classes.");
        var confusion = new int[classCount * classCount];
        double logLoss = 0;
        for (int i = 0; i < trueLabels.Length; i++)
        {
            int label = trueLabels[i];
            CheckClass(label, classCount);
            ReadOnlySpan<float> row = probabilities.Slice(i * classCount, classCount);
            confusion[label * classCount + Kernels.ArgMax(row)]++;
            logLoss += Kernels.LogLoss(row[label]);
        }
        return new ClassificationMetrics(classCount, confusion, calibrated && trueLabels.Length > 0 ? logLoss / trueLabels.Length : null);
    }

    /// <summary>Predicts <paramref name="data"/> with <paramref name="model"/> and evaluates against its labels.</summary>
    public static ClassificationMetrics Evaluate(ITrainedModel model, DigitDataView data)
    {
        float[] probabilities = model.PredictProbabilities(data);
        return FromProbabilities(Array.ConvertAll(data.GetLabels(), b => (int)b), probabilities, model.HasCalibratedProbabilities);
    }

    private static void CheckClass(int value, int classCount)
    {
        if ((uint)value >= (uint)classCount) throw new ArgumentOutOfRangeException(nameof(value), $"Class {value} is outside 0..{classCount - 1}.");
    }
}
