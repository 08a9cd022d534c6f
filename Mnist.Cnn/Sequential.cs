using Mnist.Cnn.Layers;

namespace Mnist.Cnn;

/// <summary>
/// A stack of layers applied in order (Keras' Sequential). It owns one activation and one gradient
/// buffer per step, sized for the largest batch seen, so training allocates nothing per batch.
/// </summary>
/// <remarks>
/// It is also every backend's store of weights (<see cref="Networks.INetwork.Host"/>) and the own backend's network.
/// What runs are its <see cref="Steps"/>: one per layer, unless a backend scheduled fused runs of layers
/// (<see cref="Schedule"/>); a view step (<see cref="Layer.IsView"/>) after the first shares its input's buffer and is skipped,
/// and a step whose backward works in place (<see cref="Layer.GradientInPlace"/>) overwrites its output gradient with its input's.
/// </remarks>
public sealed class Sequential : Networks.INetwork
{
    private readonly Layer[] _layers;
    private SequentialStep[] _steps = [];
    private float[][] _activations = [];
    private float[][] _gradients = [];
    private bool[] _aliased = []; // per step: a view sharing the previous step's activation buffer
    private float[][] _gradientTargets = []; // per step: where its input gradient goes (its output gradient's buffer when it works in place)
    private int _capacity;

    public Sequential(TensorShape input, params Layer[] layers)
    {
        if (layers.Length == 0) throw new ArgumentException("A model needs at least one layer.", nameof(layers));
        InputShape = input;
        _layers = layers;
    }

    Sequential Networks.INetwork.Host => this;

    public TensorShape InputShape { get; }
    public IReadOnlyList<Layer> Layers => _layers;
    public TensorShape OutputShape => _layers[^1].OutputShape;
    public bool IsBuilt { get; private set; }

    /// <summary>What Forward and Backward run, in order.</summary>
    internal IReadOnlyList<SequentialStep> Steps => _steps;

    public IEnumerable<Parameter> Parameters => _layers.SelectMany(l => l.Parameters);
    public long ParameterCount => Parameters.Sum(p => (long)p.Length);

    /// <summary>Fixes every layer's shape and initialises its parameters from <paramref name="seed"/>.</summary>
    public Sequential Build(int seed) => Build(seed, long.MaxValue);

    /// <summary><see cref="Build(int)"/> allocating at most <paramref name="weightBudget"/> parameter values (a model file's, when loading one).</summary>
    internal Sequential Build(int seed, long weightBudget)
    {
        var random = new Random(seed);
        var shape = InputShape;
        foreach (var layer in _layers)
        {
            weightBudget = layer.Build(shape, random, weightBudget);
            shape = layer.OutputShape;
        }
        IsBuilt = true;
        Schedule(_layers.Select((layer, i) => new SequentialStep(layer, i, 1)).ToArray());
        return this;
    }

    /// <summary>
    /// Runs <paramref name="steps"/> instead of the layers one by one: consecutive runs covering every layer in order, each
    /// computing what its layers compute together (e.g. a fused BatchNorm + ReLU), over the same parameters.
    /// </summary>
    internal void Schedule(IReadOnlyList<SequentialStep> steps)
    {
        if (!IsBuilt) throw new InvalidOperationException("Build the model first.");
        int next = 0;
        foreach (var step in steps)
        {
            if (step.First != next || step.Count < 1 || step.First + step.Count > _layers.Length
                || step.Layer.InputShape != _layers[step.First].InputShape || step.Layer.OutputShape != _layers[step.First + step.Count - 1].OutputShape)
                throw new ArgumentException($"Step {step.Layer.Describe()} does not continue the layers at {next}.", nameof(steps));
            next += step.Count;
        }
        if (next != _layers.Length) throw new ArgumentException("The steps do not cover every layer.", nameof(steps));
        _steps = [.. steps];
        _capacity = 0;
    }

    /// <summary>One line per layer: "Conv2D 32 5×5 same → 28×28×32 (832 parameters)".</summary>
    public string Summary() => string.Join(Environment.NewLine, _layers.Select(l =>
        $"{l.Describe()} → {l.OutputShape}" + (l.Parameters.Count > 0 ? $" ({l.Parameters.Sum(p => p.Length)} parameters)" : "")));

    public void EnsureCapacity(int batch)
    {
        if (!IsBuilt) throw new InvalidOperationException("Build the model first.");
        if (batch <= _capacity) return;
        int n = _steps.Length;
        _aliased = _steps.Select((s, i) => i > 0 && s.Layer.IsView).ToArray();
        _activations = new float[n][];
        _gradients = new float[n][];
        for (int i = 0; i < n; i++)
        {
            var layer = _steps[i].Layer;
            _activations[i] = _aliased[i] ? _activations[i - 1] : new float[batch * layer.OutputShape.Size];
        }
        // Backward from the last step: the buffer holding the current output gradient (null: the caller's, never written).
        _gradientTargets = new float[n][];
        float[]? source = null;
        for (int i = n - 1; i >= 0; i--)
        {
            var layer = _steps[i].Layer;
            _gradients[i] = [];
            if (_aliased[i]) continue;
            if (!(layer.GradientInPlace && source is not null)) _gradients[i] = new float[batch * layer.InputShape.Size];
            _gradientTargets[i] = source = _gradients[i].Length > 0 ? _gradients[i] : source!;
        }
        foreach (var layer in _layers) layer.EnsureCapacity(batch);
        foreach (var step in _steps) step.Layer.EnsureCapacity(batch);
        _capacity = batch;
    }

    /// <summary>The batch size the activation and gradient buffers hold (0: none).</summary>
    internal int ScratchCapacity => _capacity;

    /// <summary>
    /// Drops the activation and gradient buffers of every step (a batch's worth of each layer's output, hundreds of
    /// MB for the cnn), so a fitted model does not keep its training-size buffers; the next pass makes them again.
    /// </summary>
    internal void ReleaseScratch()
    {
        (_activations, _gradients, _gradientTargets, _aliased, _capacity) = ([], [], [], [], 0);
        foreach (var layer in _layers) layer.ReleaseScratch();
        foreach (var step in _steps) step.Layer.ReleaseScratch();
    }

    /// <summary>Runs the batch through every layer; returns the last layer's output (batch × OutputShape.Size).</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch, bool training)
    {
        EnsureCapacity(batch);
        ReadOnlySpan<float> current = input[..(batch * InputShape.Size)];
        for (int i = 0; i < _steps.Length; i++) current = ForwardStep(i, current, batch, training);
        return current;
    }

    /// <summary>Runs step <paramref name="i"/> on its input (the previous step's output); returns its output. After <see cref="EnsureCapacity"/>.</summary>
    internal ReadOnlySpan<float> ForwardStep(int i, ReadOnlySpan<float> input, int batch, bool training)
    {
        var layer = _steps[i].Layer;
        if (!_aliased[i]) layer.Forward(input, _activations[i], batch, training);
        return _activations[i].AsSpan(0, batch * layer.OutputShape.Size);
    }

    /// <summary>Back-propagates d(loss)/d(output) through every layer, filling each parameter's gradient. Call right after <see cref="Forward"/> in training mode.</summary>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int batch)
    {
        ReadOnlySpan<float> gradient = outputGradient;
        for (int i = _steps.Length - 1; i >= 0; i--) gradient = BackwardStep(i, input, gradient, batch);
    }

    /// <summary>
    /// Back-propagates step <paramref name="i"/>'s output gradient (from step i + 1, or the caller's for the last step);
    /// returns its input gradient (empty for the first step). <paramref name="input"/> is the network's input.
    /// </summary>
    internal ReadOnlySpan<float> BackwardStep(int i, ReadOnlySpan<float> input, ReadOnlySpan<float> gradient, int batch)
    {
        if (_aliased[i]) return gradient; // the gradient of a view is its output's
        var layer = _steps[i].Layer;
        ReadOnlySpan<float> layerInput = i == 0 ? input : _activations[i - 1].AsSpan(0, batch * layer.InputShape.Size);
        Span<float> inputGradient = i == 0 ? [] : _gradientTargets[i].AsSpan(0, batch * layer.InputShape.Size);
        layer.Backward(layerInput, _activations[i].AsSpan(0, batch * layer.OutputShape.Size), gradient, inputGradient, batch);
        return inputGradient;
    }
}

/// <summary>What one step of a <see cref="Sequential"/> runs: <paramref name="Layer"/> computes layers First … First + Count − 1.</summary>
internal readonly record struct SequentialStep(Layer Layer, int First, int Count);
