using Mnist.Core.Training;

namespace Mnist.Runner.Common;

/// <summary>
/// Interruption and resume for the one-trainer commands (<c>train</c>, <c>kaggle</c>): a checkpointing
/// trainer saves to <c>OUTPUT.ckpt</c> beside the command's output; Ctrl+C or SIGTERM keeps it and exits
/// 130; the same command with <c>--resume</c> continues from it (the checkpoint refuses other
/// hyperparameters or data), and a finished run removes it.
/// </summary>
public static class SingleRunCheckpoint
{
    public const string Extension = ".ckpt";

    /// <summary>
    /// The checkpoint for <paramref name="trainer"/> beside <paramref name="output"/>, or null for a trainer
    /// that does not checkpoint. Without --resume an existing checkpoint is refused (unless --force, which
    /// starts over); with --resume it must exist.
    /// </summary>
    public static TrainingCheckpoint? Prepare(ITrainer trainer, string output, bool resume, bool force)
    {
        string path = output + Extension;
        var checkpoint = trainer is ICheckpointingTrainer ? new TrainingCheckpoint(path, trainer.Name, trainer.Hyperparameters) : null;
        if (resume)
        {
            if (checkpoint is null) throw new UsageException($"--resume: trainer '{trainer.Name}' does not keep checkpoints; run without --resume to train it again");
            if (!checkpoint.Exists) throw new UsageException($"--resume: no checkpoint {path} to continue from");
        }
        else if (File.Exists(path))
        {
            if (!force) throw new UsageException($"{path} holds the checkpoint of an interrupted run; pass --resume to continue it or --force to start over");
            File.Delete(path);
        }
        return checkpoint;
    }

    /// <summary>
    /// Fits and evaluates <paramref name="trainer"/> on <paramref name="data"/> with its progress line, saving to (and
    /// resuming from) <paramref name="checkpoint"/>; on cancellation, the one-line message saying what was kept (exit 130).
    /// </summary>
    public static FittedModel FitAndEvaluate(RunnerEnvironment environment, ITrainer trainer, TrainingCheckpoint? checkpoint, ExperimentData data)
    {
        var cancel = environment.Cancellation;
        try
        {
            return Compare.FitProgress.Run(environment.Console, environment.LiveProgress, [trainer.Name],
                sinks => ModelFitting.FitAndEvaluate(trainer, sinks[0], data.Train, data.Validation, data.Test, cancel, checkpoint));
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new RunInterruptedException(checkpoint is { Exists: true }
                ? $"interrupted: checkpoint of {trainer.Name} kept at {checkpoint.Path}; run the same command with --resume to continue"
                : $"interrupted: nothing written ({trainer.Name} {(checkpoint is null ? "keeps no checkpoints" : "had not finished an epoch")}; it starts over next time)");
        }
    }
}
