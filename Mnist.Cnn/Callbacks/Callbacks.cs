using System.Runtime.InteropServices;
using Mnist.Core.Training;

namespace Mnist.Cnn.Callbacks;

/// <summary>What callbacks see and steer between epochs.</summary>
public sealed class TrainingState(Sequential model, Optimizers.Optimizer optimizer)
{
    public Sequential Model { get; } = model;
    public Optimizers.Optimizer Optimizer { get; } = optimizer;
    /// <summary>Set by a callback to end training after the current epoch.</summary>
    public bool StopTraining { get; set; }
    /// <summary>Why training stopped early, for the report.</summary>
    public string? StopReason { get; set; }
}

/// <summary>A hook into the training loop (Keras' Callback).</summary>
public abstract class Callback
{
    public virtual void OnTrainBegin(TrainingState state) { }
    public virtual void OnEpochEnd(TrainingState state, EpochRecord epoch) { }
    public virtual void OnTrainEnd(TrainingState state) { }

    /// <summary>Writes what the callback remembers between epochs, for a checkpoint.</summary>
    public virtual void SaveState(BinaryWriter writer) { }

    /// <summary>Restores what <see cref="SaveState"/> wrote; <paramref name="state"/> gives the model for sizes.</summary>
    public virtual void LoadState(BinaryReader reader, TrainingState state) { }
}

/// <summary>
/// The shared "monitor" of Keras' callbacks: follows one figure of each epoch (validation accuracy by
/// default, falling back to training loss when there is no validation set) and says when it improved.
/// </summary>
public abstract class MonitorCallback(string monitor, double minDelta) : Callback
{
    public string Monitor { get; } = monitor;
    public double MinDelta { get; } = minDelta;
    public double Best { get; private set; } = double.NaN;
    public int BestEpoch { get; private set; }
    /// <summary>Epochs since the last improvement.</summary>
    public int Wait { get; private set; }

    /// <summary>Accuracy-like figures improve upwards, losses downwards.</summary>
    private bool Maximize => Monitor.EndsWith("accuracy", StringComparison.Ordinal);

    public static double? Read(string monitor, EpochRecord epoch) => monitor switch
    {
        "val_accuracy" => epoch.ValidationAccuracy ?? epoch.TrainAccuracy,
        "val_loss" => epoch.ValidationLoss ?? epoch.TrainLoss,
        "accuracy" => epoch.TrainAccuracy,
        "loss" => epoch.TrainLoss,
        _ => throw new ArgumentException($"Unknown monitor '{monitor}' (val_accuracy, val_loss, accuracy, loss)."),
    };

    /// <summary>Updates Best/Wait from this epoch and returns whether it improved.</summary>
    protected bool Observe(EpochRecord epoch)
    {
        double value = Read(Monitor, epoch) ?? double.NaN;
        bool improved = double.IsNaN(Best) || (Maximize ? value > Best + MinDelta : value < Best - MinDelta);
        if (improved)
        {
            Best = value;
            BestEpoch = epoch.Epoch;
            Wait = 0;
        }
        else
        {
            Wait++;
        }
        return improved;
    }

    public override void SaveState(BinaryWriter writer)
    {
        writer.Write(Best);
        writer.Write(BestEpoch);
        writer.Write(Wait);
    }

    public override void LoadState(BinaryReader reader, TrainingState state)
    {
        Best = reader.ReadDouble();
        BestEpoch = reader.ReadInt32();
        Wait = reader.ReadInt32();
        if (BestEpoch < 0 || Wait < 0) throw new InvalidDataException($"invalid {GetType().Name} state (best epoch {BestEpoch}, wait {Wait})");
    }
}

/// <summary>
/// Keeps a copy of the weights of the best epoch and restores them when training ends (Keras' ModelCheckpoint with
/// save_best_only). An accuracy tie goes to the epoch with the lower loss of the same set: 6,000 validation images resolve
/// 0.017 points, so an annealed last epoch often ties an earlier one, and Keras' strict rule would keep the earlier.
/// </summary>
public sealed class BestModelCheckpoint(string monitor = "val_accuracy") : MonitorCallback(monitor, 0)
{
    private float[][]? _bestWeights;
    private double _bestLoss = double.NaN;

    /// <summary>The loss that breaks a tie of an accuracy monitor (val_loss for val_accuracy, loss for accuracy); null for a loss monitor.</summary>
    private string? TieBreaker => Monitor switch
    {
        "val_accuracy" => "val_loss",
        "accuracy" => "loss",
        _ => null,
    };

    public override void OnEpochEnd(TrainingState state, EpochRecord epoch)
    {
        double previousBest = Best;
        double? loss = TieBreaker is { } tieBreaker ? Read(tieBreaker, epoch) : null;
        bool improved = Observe(epoch);
        bool tieWithLowerLoss = !improved && Read(Monitor, epoch) == previousBest && loss < _bestLoss;
        if (!improved && !tieWithLowerLoss) return;
        _bestLoss = loss ?? double.NaN;
        _bestWeights = ModelWeights.Snapshot(state.Model);
    }

    public override void OnTrainEnd(TrainingState state)
    {
        if (_bestWeights is not null) ModelWeights.Restore(state.Model, _bestWeights);
    }

    public override void SaveState(BinaryWriter writer)
    {
        base.SaveState(writer);
        writer.Write(_bestLoss);
        writer.Write(_bestWeights is not null);
        if (_bestWeights is not null) StateIO.WriteArrays(writer, _bestWeights);
    }

    public override void LoadState(BinaryReader reader, TrainingState state)
    {
        base.LoadState(reader, state);
        _bestLoss = reader.ReadDouble();
        _bestWeights = reader.ReadBoolean() ? StateIO.ReadArrays(reader, ModelWeights.Snapshot(state.Model)) : null;
    }
}

/// <summary>Stops when the monitored figure has not improved for <paramref name="patience"/> epochs.</summary>
public sealed class EarlyStopping(int patience, string monitor = "val_accuracy", double minDelta = 0) : MonitorCallback(monitor, minDelta)
{
    public int Patience { get; } = patience;

    public override void OnEpochEnd(TrainingState state, EpochRecord epoch)
    {
        Observe(epoch);
        if (Wait >= Patience)
        {
            state.StopTraining = true;
            state.StopReason = $"early stop: {Monitor} did not improve for {Patience} epochs (best {Best:0.####} at epoch {BestEpoch})";
        }
    }
}

/// <summary>Multiplies the learning rate by <paramref name="factor"/> after <paramref name="patience"/> epochs without improvement.</summary>
public sealed class ReduceLearningRateOnPlateau(double factor = 0.5, int patience = 2, double minLearningRate = 1e-5, string monitor = "val_accuracy")
    : MonitorCallback(monitor, 1e-4)
{
    private int _cooldownStart;

    public override void OnEpochEnd(TrainingState state, EpochRecord epoch)
    {
        Observe(epoch);
        if (Wait - _cooldownStart >= patience)
        {
            state.Optimizer.LearningRate = Math.Max(minLearningRate, state.Optimizer.LearningRate * factor);
            _cooldownStart = Wait;
        }
        if (Wait == 0) _cooldownStart = 0;
    }

    public override void SaveState(BinaryWriter writer)
    {
        base.SaveState(writer);
        writer.Write(_cooldownStart);
    }

    public override void LoadState(BinaryReader reader, TrainingState state)
    {
        base.LoadState(reader, state);
        _cooldownStart = reader.ReadInt32();
    }
}

/// <summary>Copies of a model's parameters and state, for checkpoints.</summary>
public static class ModelWeights
{
    /// <summary>The model's live arrays: its parameters' values, then its layers' state (BatchNorm's running statistics).</summary>
    public static float[][] Arrays(Sequential model) =>
        model.Parameters.Select(p => p.Value).Concat(model.Layers.SelectMany(l => l.State)).ToArray();

    public static float[][] Snapshot(Sequential model) => Arrays(model).Select(a => (float[])a.Clone()).ToArray();

    public static void Restore(Sequential model, float[][] snapshot)
    {
        var targets = Arrays(model);
        if (targets.Length != snapshot.Length) throw new ArgumentException("The snapshot is of another model.");
        for (int i = 0; i < targets.Length; i++) snapshot[i].CopyTo(targets[i], 0);
    }
}

/// <summary>Float arrays in checkpoints: a length, then the values as little-endian bytes.</summary>
internal static class StateIO
{
    public static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        writer.Write(values.Length);
        writer.Write(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Reads an array written by <see cref="WriteFloats"/> into <paramref name="destination"/>, whose length it must have.</summary>
    public static void ReadFloats(BinaryReader reader, Span<float> destination)
    {
        int length = reader.ReadInt32();
        if (length != destination.Length) throw new InvalidDataException($"an array of {length} values where {destination.Length} are needed");
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(destination));
    }

    public static void WriteArrays(BinaryWriter writer, float[][] arrays)
    {
        writer.Write(arrays.Length);
        foreach (float[] array in arrays) WriteFloats(writer, array);
    }

    /// <summary>Reads arrays written by <see cref="WriteArrays"/> into <paramref name="shapes"/> (arrays of the expected lengths), and returns them.</summary>
    public static float[][] ReadArrays(BinaryReader reader, float[][] shapes)
    {
        int count = reader.ReadInt32();
        if (count != shapes.Length) throw new InvalidDataException($"{count} arrays where {shapes.Length} are needed");
        foreach (float[] array in shapes) ReadFloats(reader, array);
        return shapes;
    }
}
