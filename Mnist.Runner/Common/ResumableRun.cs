using System.Text.Json;
using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Core.IO;

namespace Mnist.Runner.Common;

/// <summary>A finished trainer's figures and predictions, kept in DIR/partial/&lt;trainer&gt;.json so a resumed run does not retrain it.</summary>
/// <param name="Result">Its entry of results.json's models.</param>
/// <param name="EvaluationPredicted">Predicted classes on the evaluation set (for the digit pictures).</param>
/// <param name="TestPredicted">Predicted classes on the test set, or null without one.</param>
/// <param name="Repeats">With <c>--repeat</c>: the runs finished so far, the first seed's included; null otherwise.</param>
internal sealed record FinishedTrainer(ModelResult Result, int[] EvaluationPredicted, int[]? TestPredicted, IReadOnlyList<RepeatRun>? Repeats = null);

/// <summary>
/// The resumable state of a multi-trainer run in its report folder: <c>partial/&lt;trainer&gt;.json</c> for
/// each finished trainer (written atomically as soon as it finishes) and <c>checkpoints/&lt;trainer&gt;.ckpt</c>
/// for a checkpointing trainer in progress. Both are removed once the complete report is written.
/// </summary>
internal sealed class ResumableRun(string folder)
{
    public const string PartialFolderName = "partial";
    public const string CheckpointFolderName = "checkpoints";

    public string Folder { get; } = folder;
    public string PartialFolder => Path.Combine(Folder, PartialFolderName);
    public string CheckpointFolder => Path.Combine(Folder, CheckpointFolderName);

    /// <summary>The checkpoint of <paramref name="trainer"/>, or null when it cannot checkpoint.</summary>
    public TrainingCheckpoint? Checkpoint(ITrainer trainer) =>
        trainer is ICheckpointingTrainer ? new TrainingCheckpoint(Path.Combine(CheckpointFolder, trainer.Name + ".ckpt"), trainer.Name, trainer.Hyperparameters) : null;

    /// <summary>The checkpoint file of <paramref name="trainer"/> relative to the folder, when one exists.</summary>
    public string? ExistingCheckpoint(ITrainer trainer) =>
        Checkpoint(trainer) is { Exists: true } c ? Path.GetRelativePath(Folder, c.Path) : null;

    private string PartialPath(string trainer) => Path.Combine(PartialFolder, trainer + ".json");

    public void SaveFinished(string trainer, FinishedTrainer finished) =>
        AtomicFile.WriteAllText(PartialPath(trainer), JsonSerializer.Serialize(finished, ResultsJsonWriter.Options) + "\n");

    /// <summary>The kept result of <paramref name="trainer"/>, or null; a damaged file is a <see cref="DataFormatException"/>.</summary>
    public FinishedTrainer? LoadFinished(string trainer, IReadOnlyDictionary<string, object> hyperparameters)
    {
        string path = PartialPath(trainer);
        if (!File.Exists(path)) return null;
        FinishedTrainer? finished;
        try
        {
            finished = JsonSerializer.Deserialize<FinishedTrainer>(File.ReadAllText(path), ResultsJsonWriter.Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new DataFormatException(path, $"not a finished-trainer record ({OneLine(e.Message)})");
        }
        if (finished?.Result is null || finished.EvaluationPredicted is null)
            throw new DataFormatException(path, "not a finished-trainer record");
        if (!string.Equals(finished.Result.Trainer, trainer, StringComparison.Ordinal))
            throw new DataFormatException(path, $"holds trainer '{finished.Result.Trainer}', not '{trainer}'");
        string kept = JsonSerializer.Serialize(finished.Result.Hyperparameters, ResultsJsonWriter.Options);
        string wanted = JsonSerializer.Serialize(new SortedDictionary<string, object>(hyperparameters.ToDictionary(), StringComparer.Ordinal), ResultsJsonWriter.Options);
        if (kept != wanted)
            throw new DataFormatException(path, $"was trained with other hyperparameters than this run's {trainer}");
        return finished;
    }

    /// <summary>Removes the partial results and checkpoints (at the start of a fresh run, and once the report is complete).</summary>
    public void Clear()
    {
        foreach (string sub in new[] { PartialFolder, CheckpointFolder })
            if (Directory.Exists(sub)) Directory.Delete(sub, recursive: true);
    }

    /// <summary>A finished trainer's pictures data, rebuilt from the kept predictions and the (identical) data.</summary>
    public static ModelPredictions Predictions(FinishedTrainer finished, ExperimentData data)
    {
        var result = finished.Result;
        var evaluationView = result.EvaluationSet switch { DataSplit.Test => data.Test, DataSplit.Validation => data.Validation, _ => data.Train };
        if (evaluationView is null || finished.EvaluationPredicted.Length != evaluationView.Count)
            throw new UsageException($"the kept result of {result.Trainer} does not match the data ({finished.EvaluationPredicted.Length} predictions for the {result.EvaluationSet.Name()} set)");
        return new ModelPredictions(result.Trainer, result.EvaluationSet, evaluationView, finished.EvaluationPredicted)
        {
            UnlabelledImages = data.Test is { HasLabels: false } ? data.Test : null,
            UnlabelledPredicted = data.Test is { HasLabels: false } ? finished.TestPredicted : null,
        };
    }

    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ');
}
