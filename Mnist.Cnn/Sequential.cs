using Mnist.Cnn.Layers;

namespace Mnist.Cnn;

/// <summary>
/// A stack of layers applied in order (Keras' Sequential). It owns one activation and one gradient
/// buffer per layer, sized for the largest batch seen, so training allocates nothing per batch.
/// </summary>
/// <remarks>It is also every backend's store of weights (<see cref="Networks.INetwork.Host"/>) and the own backend's network.</remarks>
public sealed class Sequential : Networks.INetwork
{
    private readonly Layer[] _layers;
    private float[][] _activations = [];
    private float[][] _gradients = [];
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

    public IEnumerable<Parameter> Parameters => _layers.SelectMany(l => l.Parameters);
    public long ParameterCount => Parameters.Sum(p => (long)p.Length);

    /// <summary>Fixes every layer's shape and initialises its parameters from <paramref name="seed"/>.</summary>
    public Sequential Build(int seed)
    {
        var random = new Random(seed);
        var shape = InputShape;
        foreach (var layer in _layers)
        {
            layer.Build(shape, random);
            shape = layer.OutputShape;
        }
        IsBuilt = true;
        return this;
    }

    /// <summary>One line per layer: "Conv2D 32 5×5 same → 28×28×32 (832 parameters)".</summary>
    public string Summary() => string.Join(Environment.NewLine, _layers.Select(l =>
        $"{l.Describe()} → {l.OutputShape}" + (l.Parameters.Count > 0 ? $" ({l.Parameters.Sum(p => p.Length)} parameters)" : "")));

    public void EnsureCapacity(int batch)
    {
        if (!IsBuilt) throw new InvalidOperationException("Build the model first.");
        if (batch <= _capacity) return;
        _activations = _layers.Select(l => new float[batch * l.OutputShape.Size]).ToArray();
        _gradients = _layers.Select(l => new float[batch * l.InputShape.Size]).ToArray();
        foreach (var layer in _layers) layer.EnsureCapacity(batch);
        _capacity = batch;
    }

    /// <summary>Runs the batch through every layer; returns the last layer's output (batch × OutputShape.Size).</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch, bool training)
    {
        EnsureCapacity(batch);
        ReadOnlySpan<float> current = input[..(batch * InputShape.Size)];
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i].Forward(current, _activations[i], batch, training);
            current = _activations[i].AsSpan(0, batch * _layers[i].OutputShape.Size);
        }
        return current;
    }

    /// <summary>Back-propagates d(loss)/d(output) through every layer, filling each parameter's gradient. Call right after <see cref="Forward"/> in training mode.</summary>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int batch)
    {
        ReadOnlySpan<float> gradient = outputGradient;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            ReadOnlySpan<float> layerInput = i == 0 ? input : _activations[i - 1].AsSpan(0, batch * _layers[i].InputShape.Size);
            Span<float> inputGradient = i == 0 ? [] : _gradients[i].AsSpan(0, batch * _layers[i].InputShape.Size);
            _layers[i].Backward(layerInput, _activations[i].AsSpan(0, batch * _layers[i].OutputShape.Size), gradient, inputGradient, batch);
            gradient = inputGradient;
        }
    }
}
