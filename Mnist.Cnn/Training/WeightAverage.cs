using System.Numerics.Tensors;
using Mnist.Cnn.Callbacks;

namespace Mnist.Cnn.Training;

/// <summary>
/// An exponential moving average of a model's weights and layer state (BatchNorm's running statistics
/// too, as timm's ModelEmaV2 averages buffers), updated after every step: a ← d·a + (1 − d)·w with
/// d = min(decay, (1 + t) / (10 + t)) at update t, so the first updates do not drag the initial weights along.
/// Evaluation swaps the average in and back out; the optimizer only ever sees the live weights.
/// </summary>
internal sealed class WeightAverage
{
    private readonly float[][] _targets;
    private readonly float[][] _average;
    private readonly float[] _swap;
    private long _updates;

    public WeightAverage(Sequential model, double decay)
    {
        if (!(decay > 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must be in (0, 1).");
        Decay = decay;
        _targets = ModelWeights.Arrays(model);
        _average = _targets.Select(t => (float[])t.Clone()).ToArray();
        _swap = new float[_targets.Length == 0 ? 0 : _targets.Max(t => t.Length)];
    }

    public double Decay { get; }

    /// <summary>The decay of update number <paramref name="update"/> (0-based).</summary>
    public static double DecayAt(double decay, long update) => Math.Min(decay, (1.0 + update) / (10.0 + update));

    /// <summary>Folds the live weights into the average.</summary>
    public void Update()
    {
        float d = (float)DecayAt(Decay, _updates++);
        for (int i = 0; i < _targets.Length; i++)
        {
            // a = d·a + (1 − d)·w, as a + (1 − d)·(w − a) in two vector passes.
            var a = _average[i].AsSpan();
            var delta = _swap.AsSpan(0, a.Length);
            TensorPrimitives.Subtract(_targets[i], a, delta);
            TensorPrimitives.MultiplyAdd(delta, 1 - d, a, a);
        }
    }

    /// <summary>Exchanges the live weights and the average: call once to evaluate the average, again to train on.</summary>
    public void Swap()
    {
        for (int i = 0; i < _targets.Length; i++)
        {
            var live = _targets[i].AsSpan();
            var temp = _swap.AsSpan(0, live.Length);
            live.CopyTo(temp);
            _average[i].CopyTo(live);
            temp.CopyTo(_average[i]);
        }
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(_updates);
        StateIO.WriteArrays(writer, _average);
    }

    public void Load(BinaryReader reader)
    {
        long updates = reader.ReadInt64();
        if (updates < 0) throw new InvalidDataException($"a weight average after {updates} updates");
        StateIO.ReadArrays(reader, _average);
        _updates = updates;
    }
}
