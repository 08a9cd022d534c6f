using System.Runtime.InteropServices;
using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = Mnist.Cnn.Layers.Parameter;
using Padding = Mnist.Cnn.Layers.Padding;

namespace Mnist.Cnn.Backends.Torch;

/// <summary>
/// A <see cref="NetworkSpec"/> as LibTorch operations (CPU, float32), over the weights in <see cref="Host"/>:
/// every forward first copies the host's parameters and BatchNorm statistics into LibTorch, a training
/// forward copies the updated statistics back, and backward writes each parameter's gradient into the host.
/// So the optimizer, checkpoints and model files are the shared ones, and the tensors keep our layouts:
/// convolution weights (ky, kx, ci) × co, dense weights inputs × units, flattening channels last.
/// </summary>
/// <remarks>
/// Activations are NCHW tensors of our shapes (a vector is C × 1 × 1). Dropout multiplies by the masks of
/// the host's own <see cref="Dropout"/> layers, so a seed gives the same masks as in our engine.
/// </remarks>
internal sealed class TorchNetwork : INetwork
{
    private readonly Func<Tensor, bool, Tensor>[] _layers;
    private readonly Parameter[] _hostParameters;
    private readonly Tensor[] _leaves;
    private readonly (float[] Host, Tensor Tensor)[] _state;
    private readonly int _classes;
    private float[] _logits = [];
    private float[] _mask = [];
    private DisposeScope? _graph; // the last training forward's tensors, until its backward
    private Tensor? _output;

    public TorchNetwork(NetworkSpec spec, Sequential host)
    {
        NeuralBackend.Torch.EnsureAvailable("a LibTorch network");
        Host = host;
        _classes = host.OutputShape.Size;
        _hostParameters = host.Parameters.ToArray();
        _leaves = _hostParameters.Select(p => Persistent(empty(p.Length, ScalarType.Float32, requires_grad: true))).ToArray();
        _state = host.Layers.SelectMany(l => l.State).Select(s => (s, Persistent(empty(s.Length, ScalarType.Float32)))).ToArray();
        int parameter = 0, state = 0;
        _layers = new Func<Tensor, bool, Tensor>[spec.Layers.Count];
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = host.Layers[i];
            _layers[i] = Operation(spec.Layers[i], layer, _leaves.AsSpan(parameter, layer.Parameters.Count).ToArray(),
                _state.AsSpan(state, layer.State.Count).ToArray().Select(s => s.Tensor).ToArray());
            parameter += layer.Parameters.Count;
            state += layer.State.Count;
        }
    }

    public Sequential Host { get; }

    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch, bool training)
    {
        NeuralBackend.Torch.EnsureAvailable("a LibTorch network"); // also keeps LibTorch's threads at ComputeSettings.Threads
        ReleaseGraph();
        var shape = Host.InputShape;
        if (_logits.Length < batch * _classes) _logits = new float[batch * _classes];
        var scope = NewDisposeScope();
        try
        {
            using (no_grad())
            {
                for (int i = 0; i < _leaves.Length; i++) Copy(_hostParameters[i].Value, _leaves[i]);
                foreach (var (values, tensor) in _state) Copy(values, tensor);
            }
            using var mode = set_grad_enabled(training);
            var x = FromHost(input[..(batch * shape.Size)], [batch, shape.Height, shape.Width, shape.Channels]).permute(0, 3, 1, 2);
            foreach (var layer in _layers) x = layer(x, training);
            var logits = x.reshape(batch, _classes).contiguous();
            Copy(logits, _logits.AsSpan(0, batch * _classes));
            if (training)
            {
                foreach (var (values, tensor) in _state) Copy(tensor, values);
                (_graph, _output, scope) = (scope, logits, null);
            }
        }
        finally
        {
            scope?.Dispose();
        }
        return _logits.AsSpan(0, batch * _classes);
    }

    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int batch)
    {
        if (_output is null) throw new InvalidOperationException("Backward needs a training forward first.");
        try
        {
            var gradient = FromHost(outputGradient[..(batch * _classes)], [batch, _classes]);
            var gradients = autograd.grad([_output], _leaves, [gradient]);
            for (int i = 0; i < _leaves.Length; i++) Copy(gradients[i].contiguous(), _hostParameters[i].Gradient);
        }
        finally
        {
            ReleaseGraph();
        }
    }

    private void ReleaseGraph()
    {
        _graph?.Dispose();
        (_graph, _output) = (null, null);
    }

    /// <summary>The operation of one layer: (activations, training) → activations, with its parameter leaves and state tensors.</summary>
    private Func<Tensor, bool, Tensor> Operation(LayerSpec spec, Layer layer, Tensor[] parameters, Tensor[] state)
    {
        var input = layer.InputShape;
        switch (spec)
        {
            case Conv2DSpec conv:
            {
                int k = conv.KernelSize, before = conv.Padding == Padding.Same ? (k - 1) / 2 : 0, after = conv.Padding == Padding.Same ? k - 1 - before : 0;
                long[] kernel = [k, k, input.Channels, conv.Filters];
                return (x, _) =>
                {
                    var weights = parameters[0].view(kernel).permute(3, 2, 0, 1).contiguous(); // (ky, kx, ci, co) → [co, ci, ky, kx]
                    return before == after
                        ? nn.functional.conv2d(x, weights, parameters[1], padding: [before, before])
                        : nn.functional.conv2d(nn.functional.pad(x, [before, after, before, after]), weights, parameters[1]);
                };
            }
            case DenseSpec dense:
            {
                long inputs = input.Size;
                return (x, _) => addmm(parameters[1], x.permute(0, 2, 3, 1).reshape(-1, inputs), parameters[0].view(inputs, dense.Units), 1, 1)
                    .view(-1, dense.Units, 1, 1);
            }
            case BatchNormSpec norm:
                return (x, training) =>
                {
                    if (!training || x.shape[0] * x.shape[2] * x.shape[3] > 1)
                        return nn.functional.batch_norm(x, state[0], state[1], parameters[0], parameters[1], training, 1 - norm.Momentum, norm.Epsilon);
                    // One value per channel (a batch of one after a dense layer): LibTorch refuses it; ours gives β, variance 0, no input gradient.
                    using (no_grad())
                    {
                        state[0].mul_(norm.Momentum).add_(x.reshape(-1), alpha: 1 - norm.Momentum);
                        state[1].mul_(norm.Momentum);
                    }
                    return (x - x) * parameters[0].view(1, -1, 1, 1) + parameters[1].view(1, -1, 1, 1);
                };
            case ReluSpec:
                return (x, _) => nn.functional.relu(x);
            case MaxPoolSpec pool:
                return (x, _) => nn.functional.max_pool2d(x, [pool.Pool, pool.Pool], [pool.Pool, pool.Pool]);
            case FlattenSpec:
                return (x, _) => x.permute(0, 2, 3, 1).reshape(-1, input.Size, 1, 1);
            case DropoutSpec:
            {
                var dropout = (Dropout)layer;
                return (x, training) =>
                {
                    if (!training || dropout.Rate == 0) return x;
                    int batch = (int)x.shape[0], count = batch * input.Size;
                    if (_mask.Length < count) _mask = new float[count];
                    dropout.NextMask(_mask, batch);
                    return x * FromHost(_mask.AsSpan(0, count), [batch, input.Height, input.Width, input.Channels]).permute(0, 3, 1, 2);
                };
            }
            default:
                throw new ArgumentException($"Unknown layer spec {spec.GetType().Name}.");
        }
    }

    private static Tensor Persistent(Tensor tensor) => tensor.DetachFromDisposeScope();

    private static Tensor FromHost(ReadOnlySpan<float> values, long[] shape)
    {
        var tensor = empty(shape, ScalarType.Float32);
        Copy(values, tensor);
        return tensor;
    }

    // Contiguous CPU float tensors only (all of ours): `bytes` is a view of their memory, the values in order.
    private static void Copy(ReadOnlySpan<float> source, Tensor destination) => source.CopyTo(MemoryMarshal.Cast<byte, float>(destination.bytes));

    private static void Copy(Tensor source, Span<float> destination) => MemoryMarshal.Cast<byte, float>(source.bytes).CopyTo(destination);
}
