using System.Diagnostics;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.IO;
using Mnist.Core.Numerics;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Core.Training.Ensembles;
using Mnist.Runner.Compare;

namespace Mnist.Runner.Common;

/// <summary>A fitted model with its figures, its predictions for the pictures and its test-set predictions.</summary>
/// <param name="Model">The trained model.</param>
/// <param name="Result">Accuracies, confusion matrix, timings: one entry of results.json's models.</param>
/// <param name="Predictions">Predictions on the evaluation set (and an unlabelled test set) for the digit pictures.</param>
/// <param name="TestPredicted">The predicted class of each test image, in order; null without a test set.</param>
public sealed record FittedModel(ITrainedModel Model, ModelResult Result, ModelPredictions Predictions, int[]? TestPredicted);

/// <summary>
/// Fitting and evaluating one trainer the same way in every command: progress, timing, evaluation on
/// train / validation / test, and a trainer's exception turned into <see cref="TrainerFailedException"/>.
/// </summary>
public static class ModelFitting
{
    /// <summary>
    /// Fits <paramref name="trainer"/> on <paramref name="train"/> (<paramref name="validation"/> is passed for
    /// monitoring), then evaluates it on every labelled set. Prediction time is measured on one set: the
    /// test set, or validation/train without one.
    /// </summary>
    /// <remarks>
    /// With <paramref name="checkpoint"/>, a trainer that implements <see cref="ICheckpointingTrainer"/>
    /// saves its progress there (and resumes from it when it exists); other trainers ignore it and start over.
    /// </remarks>
    public static FittedModel FitAndEvaluate(ITrainer trainer, ITrainerProgress progress,
        DigitDataView train, DigitDataView? validation, DigitDataView? test, CancellationToken cancel, TrainingCheckpoint? checkpoint = null) =>
        Guarded(trainer.Name, progress, cancel, () =>
        {
            progress.Start();
            PeakMemory.Restart();
            var clock = Stopwatch.StartNew();
            var model = checkpoint is not null && trainer is ICheckpointingTrainer resumable
                ? resumable.Fit(train, validation, progress, cancel, checkpoint)
                : trainer.Fit(train, validation, progress, cancel);
            double fitSeconds = clock.Elapsed.TotalSeconds;
            cancel.ThrowIfCancellationRequested();
            progress.SetStage("evaluating");
            var fitted = Evaluate(model, trainer.Name, fitSeconds, train, validation, test, cancel);
            var result = fitted.Result with { PeakWorkingSetBytes = PeakMemory.SinceRestart() };
            fitted = fitted with { Result = result };
            progress.Complete($"done in {MarkdownReportWriter.Seconds(fitSeconds)}, test {MarkdownReportWriter.Percent(result.TestAccuracy)}, " +
                              $"validation {MarkdownReportWriter.Percent(result.ValidationAccuracy)}, train {MarkdownReportWriter.Percent(result.TrainAccuracy)}");
            return fitted;
        });

    /// <summary>Evaluates a fitted (or loaded) model on every labelled set and predicts the test set.</summary>
    public static FittedModel Evaluate(ITrainedModel model, string trainerName, double fitSeconds,
        DigitDataView train, DigitDataView? validation, DigitDataView? test, CancellationToken cancel)
    {
        // An ensemble's members are evaluated on their own too: each predicts a set once, and the ensemble combines those.
        var predicted = new Dictionary<DigitDataView, (float[] Probabilities, IReadOnlyList<float[]> Members)>(ReferenceEqualityComparer.Instance);
        (float[] Probabilities, IReadOnlyList<float[]> Members) Predicted(DigitDataView view)
        {
            if (!predicted.TryGetValue(view, out var p))
            {
                cancel.ThrowIfCancellationRequested();
                predicted[view] = p = PredictWithMembers(model, view, cancel);
            }
            return p;
        }
        float[] Probabilities(DigitDataView view) => Predicted(view).Probabilities;
        IReadOnlyList<float[]> MemberProbabilities(DigitDataView view) => Predicted(view).Members;

        var (predictSet, predictView) = test is not null ? (DataSplit.Test, test) : validation is not null ? (DataSplit.Validation, validation) : (DataSplit.Train, train);
        var predictClock = Stopwatch.StartNew();
        Predicted(predictView);
        double predictSeconds = predictClock.Elapsed.TotalSeconds;

        ClassificationMetrics? Metrics(DigitDataView? view) =>
            view is null || !view.HasLabels ? null
                : Evaluator.FromProbabilities(Labels(view), Probabilities(view), model.HasCalibratedProbabilities);

        var trainMetrics = Metrics(train)!;
        var validationMetrics = Metrics(validation);
        var testMetrics = Metrics(test);
        var result = ModelResult.Create(trainerName, model.Hyperparameters, trainMetrics, validationMetrics, testMetrics,
            fitSeconds, predictSeconds, predictSet, predictView.Count, model.History, model.Engine) with { Members = MemberResults(model, validation, test, MemberProbabilities) };

        var evaluationView = result.EvaluationSet switch { DataSplit.Test => test!, DataSplit.Validation => validation!, _ => train };
        int[] evaluationPredicted = Kernels.ArgMaxRows(Probabilities(evaluationView), DigitDataView.ClassCount);
        int[]? testPredicted = test is null ? null : Kernels.ArgMaxRows(Probabilities(test), DigitDataView.ClassCount);
        var predictions = new ModelPredictions(trainerName, result.EvaluationSet, evaluationView, evaluationPredicted)
        {
            UnlabelledImages = test is { HasLabels: false } ? test : null,
            UnlabelledPredicted = test is { HasLabels: false } ? testPredicted : null,
        };
        return new FittedModel(model, result, predictions, testPredicted);
    }

    /// <summary>
    /// Each member of a combined model (an ensemble) scored on its own on the validation and test sets, from
    /// <paramref name="memberProbabilities"/> (every member's predictions of a set); null for a single model.
    /// </summary>
    private static List<MemberResult>? MemberResults(ITrainedModel model, DigitDataView? validation, DigitDataView? test,
        Func<DigitDataView, IReadOnlyList<float[]>> memberProbabilities)
    {
        if (model.Members.Count == 0) return null;
        double? Accuracy(int member, DigitDataView? view) =>
            view is not { HasLabels: true } ? null
                : Evaluator.FromProbabilities(Labels(view), memberProbabilities(view)[member], model.Members[member].HasCalibratedProbabilities).Accuracy;
        return model.Members.Select((member, i) => new MemberResult(i + 1, member.TrainerName, member.Engine,
            new SortedDictionary<string, object>(member.Hyperparameters.ToDictionary(), StringComparer.Ordinal),
            Accuracy(i, validation), Accuracy(i, test))).ToList();
    }

    /// <summary>
    /// The class probabilities of <paramref name="view"/> and, for a combined model (an ensemble), each member's
    /// (empty for a single model): every member predicts once and the model combines those.
    /// </summary>
    public static (float[] Probabilities, IReadOnlyList<float[]> Members) PredictWithMembers(ITrainedModel model, DigitDataView view, CancellationToken cancel)
    {
        if (model is not ICombinedModel combined) return (model.PredictProbabilities(view), []);
        var members = model.Members.Select(member =>
        {
            cancel.ThrowIfCancellationRequested();
            return member.PredictProbabilities(view);
        }).ToList();
        var probabilities = new float[view.Count * DigitDataView.ClassCount];
        combined.Combine(members, probabilities);
        return (probabilities, members);
    }

    /// <summary>Fits on <paramref name="train"/> and returns the accuracy on the labelled <paramref name="heldOut"/> set (cross-validation, grid search).</summary>
    public static (double Accuracy, double FitSeconds, IReadOnlyDictionary<string, object> Hyperparameters) FitAndScore(
        ITrainer trainer, ITrainerProgress progress, DigitDataView train, DigitDataView? monitor, DigitDataView heldOut, CancellationToken cancel) =>
        Guarded(trainer.Name, progress, cancel, () =>
        {
            progress.Start();
            var clock = Stopwatch.StartNew();
            var model = trainer.Fit(train, monitor, progress, cancel);
            double fitSeconds = clock.Elapsed.TotalSeconds;
            cancel.ThrowIfCancellationRequested();
            progress.SetStage("evaluating");
            double accuracy = Evaluator.Evaluate(model, heldOut).Accuracy;
            progress.Complete($"done in {MarkdownReportWriter.Seconds(fitSeconds)}, validation {MarkdownReportWriter.Percent(accuracy)}");
            return (accuracy, fitSeconds, model.Hyperparameters);
        });

    /// <summary>Runs <paramref name="body"/>; a trainer's exception becomes <see cref="TrainerFailedException"/>, Ctrl+C stays a cancellation.</summary>
    public static T Guarded<T>(string trainer, ITrainerProgress? progress, CancellationToken cancel, Func<T> body)
    {
        try
        {
            return body();
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            progress?.Fail("interrupted");
            throw;
        }
        catch (DataFormatException)
        {
            // A corrupt or mismatched checkpoint: bad input, not a trainer bug.
            progress?.Fail("bad checkpoint");
            throw;
        }
        catch (EngineUnavailableException)
        {
            // The trainer's engine cannot run here (normally refused before training by ExperimentData.CheckTrainers).
            progress?.Fail("engine unavailable");
            throw;
        }
        catch (OutputWriteException)
        {
            // A checkpoint the disk would not take: the environment, not the trainer.
            progress?.Fail("cannot write");
            throw;
        }
        catch (IncompatibleDataException e)
        {
            // Data the trainer cannot take (normally refused before training by ExperimentData.CheckTrainers).
            progress?.Fail("cannot fit these images");
            throw new UsageException($"trainer '{trainer}' cannot fit these images: {e.Message}");
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException or TrainerFailedException or UsageException or EngineUnavailableException))
        {
            progress?.Fail("failed");
            throw new TrainerFailedException(trainer, e);
        }
    }

    /// <summary>Sets the process-wide compute threads from --threads (all cores when absent) and returns the value.</summary>
    public static int ApplyThreads(int? threads)
    {
        ComputeSettings.Threads = threads ?? Environment.ProcessorCount;
        return ComputeSettings.Threads;
    }

    public static int[] Labels(DigitDataView view) => Array.ConvertAll(view.GetLabels(), b => (int)b);
}
