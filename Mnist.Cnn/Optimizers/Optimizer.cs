using System.Runtime.Intrinsics;
using Mnist.Cnn.Layers;

namespace Mnist.Cnn.Optimizers;

/// <summary>The update rules <see cref="Optimizer.Create"/> builds.</summary>
public enum OptimizerKind
{
    Adam,
    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,
    /// <summary>Stochastic gradient descent with momentum.</summary>
    Sgd,
    /// <summary>SGD with Nesterov momentum.</summary>
    Nesterov,
    RmsProp,
}

/// <summary>Updates parameters from their gradients. State (momenta) is kept per parameter, in the order first seen.</summary>
public abstract class Optimizer
{
    private readonly Dictionary<Parameter, float[][]> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(double learningRate, double weightDecay)
    {
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>The current learning rate; schedules and callbacks change it between epochs.</summary>
    public double LearningRate { get; set; }

    /// <summary>L2 weight decay applied to parameters marked for decay (decoupled for AdamW, added to the gradient otherwise).</summary>
    public double WeightDecay { get; }

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public int Steps { get; private set; }

    public void Step(IEnumerable<Parameter> parameters)
    {
        Steps++;
        foreach (var parameter in parameters)
        {
            if (!_state.TryGetValue(parameter, out var state))
            {
                state = Enumerable.Range(0, StateSlots).Select(_ => new float[parameter.Length]).ToArray();
                _state[parameter] = state;
            }
            Update(parameter, state);
        }
    }

    /// <summary>
    /// Writes the step count, learning rate and every moment array, in the order of <paramref name="parameters"/>
    /// (a checkpoint: <see cref="LoadState"/> on a fresh optimizer of the same kind continues exactly).
    /// </summary>
    public void SaveState(BinaryWriter writer, IReadOnlyList<Parameter> parameters)
    {
        writer.Write(GetType().Name);
        writer.Write(Steps);
        writer.Write(LearningRate);
        writer.Write(StateSlots);
        writer.Write(parameters.Count);
        foreach (var parameter in parameters)
        {
            bool has = _state.TryGetValue(parameter, out var slots);
            writer.Write(has);
            if (has)
                foreach (float[] slot in slots!) Callbacks.StateIO.WriteFloats(writer, slot);
        }
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote for the same parameters; a mismatch raises <see cref="InvalidDataException"/>.</summary>
    public void LoadState(BinaryReader reader, IReadOnlyList<Parameter> parameters)
    {
        string kind = reader.ReadString();
        if (kind != GetType().Name) throw new InvalidDataException($"optimizer state of {kind}, not {GetType().Name}");
        int steps = reader.ReadInt32();
        double learningRate = reader.ReadDouble();
        int slots = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (steps < 0) throw new InvalidDataException($"negative optimizer step count {steps}");
        if (slots != StateSlots) throw new InvalidDataException($"{slots} optimizer state slots, expected {StateSlots}");
        if (count != parameters.Count) throw new InvalidDataException($"optimizer state for {count} parameters, the model has {parameters.Count}");
        var state = new Dictionary<Parameter, float[][]>(ReferenceEqualityComparer.Instance);
        foreach (var parameter in parameters)
        {
            if (!reader.ReadBoolean()) continue;
            var arrays = new float[slots][];
            for (int s = 0; s < slots; s++)
            {
                arrays[s] = new float[parameter.Length];
                Callbacks.StateIO.ReadFloats(reader, arrays[s]);
            }
            state[parameter] = arrays;
        }
        _state.Clear();
        foreach (var (parameter, arrays) in state) _state[parameter] = arrays;
        Steps = steps;
        LearningRate = learningRate;
    }

    /// <summary>How many per-parameter state arrays the optimizer needs.</summary>
    protected abstract int StateSlots { get; }

    protected abstract void Update(Parameter parameter, float[][] state);

    /// <summary>Creates an optimizer of the given kind.</summary>
    public static Optimizer Create(OptimizerKind kind, double learningRate, double momentum, double weightDecay) => kind switch
    {
        OptimizerKind.Adam => new Adam(learningRate, weightDecay, decoupled: false),
        OptimizerKind.AdamW => new Adam(learningRate, weightDecay, decoupled: true),
        OptimizerKind.Sgd => new Sgd(learningRate, momentum, nesterov: false, weightDecay),
        OptimizerKind.Nesterov => new Sgd(learningRate, momentum, nesterov: true, weightDecay),
        OptimizerKind.RmsProp => new RmsProp(learningRate, weightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer."),
    };
}

/// <summary>Stochastic gradient descent with momentum, optionally Nesterov's.</summary>
public sealed class Sgd(double learningRate, double momentum = 0.9, bool nesterov = false, double weightDecay = 0) : Optimizer(learningRate, weightDecay)
{
    protected override int StateSlots => 1;

    protected override void Update(Parameter parameter, float[][] state)
    {
        float[] w = parameter.Value, g = parameter.Gradient, v = state[0];
        float lr = (float)LearningRate, mu = (float)momentum, decay = parameter.Decay ? (float)WeightDecay : 0f;
        for (int i = 0; i < w.Length; i++)
        {
            float grad = g[i] + decay * w[i];
            v[i] = mu * v[i] + grad;
            w[i] -= lr * (nesterov ? grad + mu * v[i] : v[i]);
        }
    }
}

/// <summary>Adam (Kingma &amp; Ba) with bias correction; with <c>decoupled</c> the weight decay is AdamW's.</summary>
/// <remarks>
/// The update runs 16 lanes at a time (<see cref="AdamKernel"/>) and large parameters are split between the workers;
/// each element's arithmetic is the scalar twin's, operation for operation, so the result is the same bit for bit.
/// </remarks>
public sealed class Adam(double learningRate, double weightDecay = 0, bool decoupled = false, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7)
    : Optimizer(learningRate, weightDecay)
{
    /// <summary>Parameters at least this long are split between the workers.</summary>
    private const int ParallelLength = 1 << 16;

    protected override int StateSlots => 2;

    protected override void Update(Parameter parameter, float[][] state)
    {
        var step = Coefficients(parameter);
        float[] w = parameter.Value, g = parameter.Gradient, m = state[0], v = state[1];
        if (w.Length < ParallelLength)
        {
            AdamKernel.Update(step, w, g, m, v, 0, w.Length);
            return;
        }
        WorkSplit.Run(w.Length / AdamKernel.Width, (_, start, end) =>
            AdamKernel.Update(step, w, g, m, v, start * AdamKernel.Width, end == w.Length / AdamKernel.Width ? w.Length : end * AdamKernel.Width));
    }

    /// <summary>The scalar update, the twin <see cref="AdamKernel"/> is tested against.</summary>
    internal void ReferenceUpdate(Parameter parameter, float[][] state)
    {
        float[] w = parameter.Value;
        AdamKernel.ScalarUpdate(Coefficients(parameter), w, parameter.Gradient, state[0], state[1], 0, w.Length);
    }

    /// <summary>This step's constants for <paramref name="parameter"/> (bias corrections folded into the step size and ε).</summary>
    private AdamStep Coefficients(Parameter parameter)
    {
        double correction1 = 1 - Math.Pow(beta1, Steps), correction2 = 1 - Math.Pow(beta2, Steps);
        float decay = parameter.Decay ? (float)WeightDecay : 0f;
        return new AdamStep(
            StepSize: (float)(LearningRate * Math.Sqrt(correction2) / correction1),
            Beta1: (float)beta1, Beta2: (float)beta2, Epsilon: (float)(epsilon * Math.Sqrt(correction2)),
            DecoupledShrink: decoupled ? 1f - (float)LearningRate * decay : 1f,
            CoupledDecay: decoupled ? 0f : decay);
    }
}

/// <summary>One Adam step's constants.</summary>
internal readonly record struct AdamStep(float StepSize, float Beta1, float Beta2, float Epsilon, float DecoupledShrink, float CoupledDecay);

/// <summary>
/// Adam's element update over [start, end), 16 lanes at a time. No fused multiply-add, and the scalar loop's order of
/// operations, so every element equals <see cref="Adam.ReferenceUpdate"/>'s.
/// </summary>
internal static class AdamKernel
{
    public const int Width = 16;

    public static void Update(AdamStep step, float[] w, float[] g, float[] m, float[] v, int start, int end)
    {
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            var decay = Vector512.Create(step.CoupledDecay);
            var b1 = Vector512.Create(step.Beta1);
            var b2 = Vector512.Create(step.Beta2);
            var oneMinusB1 = Vector512.Create(1 - step.Beta1);
            var oneMinusB2 = Vector512.Create(1 - step.Beta2);
            var shrink = Vector512.Create(step.DecoupledShrink);
            var stepSize = Vector512.Create(step.StepSize);
            var eps = Vector512.Create(step.Epsilon);
            for (; i <= end - Width; i += Width)
            {
                var wi = Vector512.Create(w.AsSpan(i, Width));
                var grad = Vector512.Create(g.AsSpan(i, Width)) + decay * wi;
                var mi = b1 * Vector512.Create(m.AsSpan(i, Width)) + oneMinusB1 * grad;
                var vi = b2 * Vector512.Create(v.AsSpan(i, Width)) + oneMinusB2 * grad * grad;
                mi.CopyTo(m.AsSpan(i, Width));
                vi.CopyTo(v.AsSpan(i, Width));
                (wi * shrink - stepSize * mi / (Vector512.Sqrt(vi) + eps)).CopyTo(w.AsSpan(i, Width));
            }
        }
        ScalarUpdate(step, w, g, m, v, i, end);
    }

    /// <summary>The update one element at a time.</summary>
    public static void ScalarUpdate(AdamStep step, float[] w, float[] g, float[] m, float[] v, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            float grad = g[i] + step.CoupledDecay * w[i];
            m[i] = step.Beta1 * m[i] + (1 - step.Beta1) * grad;
            v[i] = step.Beta2 * v[i] + (1 - step.Beta2) * grad * grad;
            w[i] = w[i] * step.DecoupledShrink - step.StepSize * m[i] / (MathF.Sqrt(v[i]) + step.Epsilon);
        }
    }
}

/// <summary>RMSprop (Hinton): divides the step by a running RMS of recent gradients.</summary>
public sealed class RmsProp(double learningRate, double weightDecay = 0, double rho = 0.9, double epsilon = 1e-7) : Optimizer(learningRate, weightDecay)
{
    protected override int StateSlots => 1;

    protected override void Update(Parameter parameter, float[][] state)
    {
        float[] w = parameter.Value, g = parameter.Gradient, s = state[0];
        float lr = (float)LearningRate, r = (float)rho, eps = (float)epsilon, decay = parameter.Decay ? (float)WeightDecay : 0f;
        for (int i = 0; i < w.Length; i++)
        {
            float grad = g[i] + decay * w[i];
            s[i] = r * s[i] + (1 - r) * grad * grad;
            w[i] -= lr * grad / (MathF.Sqrt(s[i]) + eps);
        }
    }
}
