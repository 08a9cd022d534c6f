using System.Globalization;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;

namespace Mnist.Core.Training.Ensembles;

/// <summary>
/// Soft voting over catalog trainers: fits each member in turn on the same data, each with its own seed
/// derived from the ensemble's (<see cref="Seeds.Derive(int, int)"/> of the seed and the member's index,
/// unless the member sets its seed itself), and averages their class probabilities (<see cref="SoftVote"/>).
/// </summary>
/// <remarks>
/// With a <see cref="TrainingCheckpoint"/> the ensemble's checkpoint holds every finished member's model;
/// a checkpointing member in progress keeps its own checkpoint beside it (<c>NAME.member-K.ckpt</c>), so a
/// resumed fit skips the finished members and continues the one in progress from its last epoch.
/// </remarks>
internal sealed class EnsembleTrainer : ICheckpointingTrainer
{
    private const int CheckpointVersion = 1;
    private readonly TrainerCatalog _catalog;
    private readonly IReadOnlyList<ITrainer> _members;

    /// <param name="catalog">Where the members' trainers are found.</param>
    /// <param name="options">The hyperparameters; a bad member list or member hyperparameter is an <see cref="ArgumentException"/>.</param>
    /// <param name="name">The ensemble's catalog name.</param>
    public EnsembleTrainer(TrainerCatalog catalog, EnsembleOptions options, string name = EnsembleCatalog.Name)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        Name = name;
        Options = EnsembleOptions.Schema.Validate(options);
        _catalog = catalog;
        _members = EnsembleMembers.Parse(Options.Members, catalog, name).Select((spec, i) => CreateMember(catalog.Find(spec.Trainer), spec, i)).ToList();
    }

    public string Name { get; }
    public EnsembleOptions Options { get; }
    public IReadOnlyDictionary<string, object> Hyperparameters => EnsembleOptions.Schema.ToDictionary(Options);

    /// <summary>The member trainers, in order, with their resolved hyperparameters (derived seeds included).</summary>
    public IReadOnlyList<ITrainer> Members => _members;

    private ITrainer CreateMember(TrainerRegistration registration, EnsembleMember spec, int index)
    {
        var overrides = new Dictionary<string, string>(spec.Overrides, StringComparer.OrdinalIgnoreCase);
        if (registration.Hyperparameters.Seed is { } seed && !overrides.ContainsKey(seed.Name))
            overrides[seed.Name] = Seeds.Derive(Options.Seed, index).ToString(CultureInfo.InvariantCulture);
        if (Options.Tta > 0 && registration.Hyperparameters.Find(TtaName) is not null && !overrides.ContainsKey(TtaName))
            overrides[TtaName] = Options.Tta.ToString(CultureInfo.InvariantCulture);
        try
        {
            return registration.Create(overrides);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"ensemble member {index + 1} ({spec.Trainer}): {e.Message}", e);
        }
    }

    /// <summary>The hyperparameter name the ensemble's <c>tta</c> is forwarded to.</summary>
    private const string TtaName = "tta";

    public void CheckImageSize(int height, int width)
    {
        foreach (var member in _members) member.CheckImageSize(height, width);
    }

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        FitCore(train, validation, progress, cancellationToken, checkpoint: null);

    public ITrainedModel Fit(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, TrainingCheckpoint checkpoint) =>
        FitCore(train, validation, progress, cancellationToken, checkpoint ?? throw new ArgumentNullException(nameof(checkpoint)));

    private EnsembleModel FitCore(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, TrainingCheckpoint? checkpoint)
    {
        validation = FitArguments.Check(train, validation);
        var shape = CheckpointDataShape.Of(train, validation);
        var finished = new List<ITrainedModel>();
        int count = _members.Count;
        if (checkpoint is { Exists: true })
        {
            finished = checkpoint.Load(reader => ReadCheckpoint(reader, shape));
            progress?.Report(new TrainingProgress((double)finished.Count / count, $"resumed: {finished.Count}/{count} members finished"));
        }
        else if (checkpoint is not null)
        {
            // A fresh fit: member checkpoints left by an abandoned run must not be resumed.
            for (int i = 0; i < count; i++) MemberCheckpoint(checkpoint, i)?.Delete();
            checkpoint.Save(writer => WriteCheckpoint(writer, shape, finished));
        }
        for (int i = 0; i < finished.Count; i++) MemberCheckpoint(checkpoint, i)?.Delete();

        for (int i = finished.Count; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var member = _members[i];
            string label = $"member {i + 1}/{count} ({member.Name})";
            var memberProgress = progress is null ? null : new MemberProgress(progress, label, i, count);
            var memberCheckpoint = MemberCheckpoint(checkpoint, i);
            var model = memberCheckpoint is not null
                ? ((ICheckpointingTrainer)member).Fit(train, validation, memberProgress, cancellationToken, memberCheckpoint)
                : member.Fit(train, validation, memberProgress, cancellationToken);
            finished.Add(model);
            checkpoint?.Save(writer => WriteCheckpoint(writer, shape, finished));
            memberCheckpoint?.Delete();
            if (progress is null) continue; // the member's validation accuracy is only for the progress line: a whole prediction of the set
            string accuracy = validation is null ? "" : $", validation {(Evaluator.Evaluate(model, validation).Accuracy * 100).ToString("0.00", CultureInfo.InvariantCulture)}%";
            progress.Report(new TrainingProgress((double)(i + 1) / count, $"{label} done{accuracy}", Milestone: true));
        }
        return new EnsembleModel(Name, Options, finished);
    }

    /// <summary>The checkpoint of checkpointing member <paramref name="index"/> beside the ensemble's, or null.</summary>
    private TrainingCheckpoint? MemberCheckpoint(TrainingCheckpoint? ensemble, int index)
    {
        if (ensemble is null || _members[index] is not ICheckpointingTrainer member) return null;
        string path = ensemble.Path;
        string file = $"{System.IO.Path.GetFileNameWithoutExtension(path)}.member-{index + 1}{System.IO.Path.GetExtension(path)}";
        return new TrainingCheckpoint(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, file), member.Name, member.Hyperparameters);
    }

    private static void WriteCheckpoint(BinaryWriter writer, CheckpointDataShape shape, IReadOnlyList<ITrainedModel> finished)
    {
        writer.Write(CheckpointVersion);
        shape.Write(writer);
        EnsembleModel.WriteMembers(writer, finished);
    }

    private List<ITrainedModel> ReadCheckpoint(BinaryReader reader, CheckpointDataShape shape)
    {
        int version = reader.ReadInt32();
        if (version != CheckpointVersion) throw new InvalidDataException($"unsupported {Name} checkpoint version {version}");
        shape.ReadAndCheck(reader);
        var models = EnsembleModel.ReadMembers(reader, _catalog, _members.Select(m => m.Name).ToList(), complete: false);
        for (int i = 0; i < models.Count; i++)
        {
            string kept = JsonOf(models[i].Hyperparameters), wanted = JsonOf(_members[i].Hyperparameters);
            if (kept != wanted) throw new InvalidDataException($"finished member {i + 1} was trained with other hyperparameters ({kept}) than this run's ({wanted})");
        }
        return models;
    }

    private static string JsonOf(IReadOnlyDictionary<string, object> hyperparameters) =>
        System.Text.Json.JsonSerializer.Serialize(new SortedDictionary<string, object>(hyperparameters.ToDictionary(), StringComparer.Ordinal));

    /// <summary>Maps a member's progress into its share of the whole fit, its stage prefixed with "member K/N (name): ".</summary>
    private sealed class MemberProgress(IProgress<TrainingProgress> outer, string label, int index, int count) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) =>
            outer.Report(value with { Fraction = (index + Math.Clamp(value.Fraction, 0, 1)) / count, Stage = $"{label}: {value.Stage}" });
    }
}
