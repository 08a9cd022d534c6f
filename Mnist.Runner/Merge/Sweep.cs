using Mnist.Core.Data;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Runner.Common;
using Mnist.Runner.Compare;

namespace Mnist.Runner.Merge;

/// <summary>The images of one fold: what the trainer fits on, what it may monitor while fitting, what scores it.</summary>
internal sealed record FoldViews(DigitDataView Train, DigitDataView? Monitor, DigitDataView HeldOut);

/// <summary>
/// The trials of a grid search or cross-validation in their one fixed order: fold-major, trial
/// i = (item i mod W, fold i / W) for W items (grid combinations, cv trainers), so each fold's images are
/// copied once. An unsharded run executes every trial, a shard its share; both through <see cref="Run"/>.
/// </summary>
/// <param name="Trainers">The items, each a created trainer.</param>
/// <param name="Labels">How each item is named in progress lines.</param>
/// <param name="Folds">Folds (1 for a single validation split).</param>
internal sealed record Sweep(IReadOnlyList<ITrainer> Trainers, IReadOnlyList<string> Labels, int Folds)
{
    public int Width => Trainers.Count;

    public int TrialCount => Width * Folds;

    public int Item(int trial) => trial % Width;

    public int Fold(int trial) => trial / Width;

    private string Label(int trial) => Folds > 1 ? $"{Labels[Item(trial)]} fold {Fold(trial) + 1}/{Folds}" : Labels[Item(trial)];

    /// <summary>Fits and scores the trials of <paramref name="shard"/>, in order; <paramref name="fold"/> gives a fold's images (called once per fold used).</summary>
    public IReadOnlyList<TrialResult> Run(RunnerEnvironment environment, Shard shard, Func<int, FoldViews> fold)
    {
        var selected = Enumerable.Range(0, TrialCount).Where(shard.Contains).ToList();
        var cancel = environment.Cancellation;
        return FitProgress.Run(environment.Console, environment.LiveProgress, selected.Select(Label).ToList(), sinks =>
        {
            var results = new List<TrialResult>(selected.Count);
            (int Fold, FoldViews Views)? current = null;
            for (int s = 0; s < selected.Count; s++)
            {
                int trial = selected[s];
                if (current?.Fold != Fold(trial)) current = (Fold(trial), fold(Fold(trial)));
                var views = current.Value.Views;
                cancel.ThrowIfCancellationRequested();
                var (accuracy, seconds, hyperparameters) = ModelFitting.FitAndScore(Trainers[Item(trial)], sinks[s], views.Train, views.Monitor, views.HeldOut, cancel);
                results.Add(new TrialResult(trial, Label(trial), accuracy, seconds, hyperparameters));
            }
            return results;
        });
    }
}
