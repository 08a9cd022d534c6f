using Mnist.Core.Data;
using Mnist.Core.Training;
using Mnist.Runner.Compare;

namespace Mnist.Runner.Common;

/// <summary>A loaded dataset, limited and split the way every command does it.</summary>
/// <param name="Folder">The data folder (or the training file for single-file data).</param>
/// <param name="Format">"mnist-idx" or "kaggle-csv".</param>
/// <param name="Files">The files read.</param>
/// <param name="AllTrain">
/// Every (limited) training image, before the validation split: <paramref name="Train"/> itself without a split; with
/// one, only when the command asked for it (grid refits on it), as it keeps a second copy of every image alive.
/// </param>
/// <param name="Train">The images trainers fit on.</param>
/// <param name="Validation">The stratified hold-out, or null.</param>
/// <param name="Test">The (limited) test images, labelled or not, or null.</param>
public sealed record ExperimentData(
    string Folder, string Format, IReadOnlyList<string> Files,
    DigitDataView? AllTrain, DigitDataView Train, DigitDataView? Validation, DigitDataView? Test)
{
    public bool TestHasLabels => Test is { HasLabels: true };

    /// <summary>The folder of --data, or the repository's data/ when it is not given.</summary>
    public static string ResolveFolder(RunnerEnvironment environment, string? data) =>
        data is not null
            ? Path.GetFullPath(data, environment.CurrentDirectory)
            : DataFolderLocator.Find(environment.CurrentDirectory, environment.BaseDirectory)
              ?? throw new UsageException($"no data folder found (looked for data/ in {environment.CurrentDirectory} and beside {DataFolderLocator.SolutionFileName} above it); pass --data DIR");

    /// <summary>Loads a data folder, applies the limits and splits off a stratified validation set.</summary>
    public static ExperimentData Load(string folder, int? trainLimit, int? testLimit, double validationFraction, int seed, bool keepAllTrain = false)
    {
        var dataset = DatasetLoader.Load(folder);
        var allTrain = trainLimit is int tl ? dataset.Train.Take(tl) : dataset.Train;
        var test = dataset.Test is null ? null : (testLimit is int sl ? dataset.Test.Take(sl) : dataset.Test).Materialize();
        return Split(folder, dataset.Format, dataset.Files.Select(Path.GetFullPath).ToList(), allTrain, test, validationFraction, seed, keepAllTrain);
    }

    /// <summary>Splits <paramref name="allTrain"/> into train and a stratified validation set (none when the fraction is 0).</summary>
    public static ExperimentData Split(string folder, string format, IReadOnlyList<string> files, DigitDataView allTrain, DigitDataView? test,
        double validationFraction, int seed, bool keepAllTrain = false)
    {
        // Views are materialized so trainers get contiguous pixels.
        if (validationFraction > 0)
        {
            var (trainIndices, validationIndices) = Splits.StratifiedTrainValidation(allTrain, validationFraction, seed);
            var validation = validationIndices.Length > 0 ? allTrain.Subset(validationIndices).Materialize() : null;
            return new ExperimentData(folder, format, files, keepAllTrain ? allTrain : null, allTrain.Subset(trainIndices).Materialize(), validation, test);
        }
        var train = allTrain.Materialize();
        return new ExperimentData(folder, format, files, train, train, null, test);
    }

    /// <summary>
    /// Asks every trainer whether it can fit these images (their size against a network's layers, say) before
    /// any of them trains; the first refusal is a <see cref="UsageException"/> naming the data and the trainer.
    /// </summary>
    public ExperimentData CheckTrainers(IEnumerable<ITrainer> trainers)
    {
        foreach (var trainer in trainers)
        {
            try
            {
                trainer.CheckImageSize(Train.Height, Train.Width);
            }
            catch (IncompatibleDataException e)
            {
                throw new UsageException($"{Folder}: trainer '{trainer.Name}' cannot fit these {Train.Height}×{Train.Width} images: {e.Message}");
            }
        }
        return this;
    }

    /// <summary>"Data: … N train, M validation, K test; seed S, T threads".</summary>
    public string Describe(int seed, int threads) =>
        $"Data: {Folder} ({Format}): {Train.Count} train, {Validation?.Count ?? 0} validation, " +
        $"{Test?.Count ?? 0} test{(Test is null ? "" : TestHasLabels ? "" : " (unlabelled)")}; seed {seed}, {threads} threads";
}
