using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;
using Mnist.Core.Numerics;

namespace Mnist.Cnn.Backends.Own;

/// <summary>Compiles a <see cref="NetworkSpec"/> into our own layers: a <see cref="Sequential"/>, which is itself the own backend's network.</summary>
internal static class OwnBackend
{
    /// <summary>
    /// The layers for <paramref name="spec"/>, shapes fixed and parameters initialised from <paramref name="seed"/>; with
    /// <paramref name="fuse"/>, scheduled to run a BatchNorm followed by a ReLU (and a MaxPool after that, if any) as one
    /// <see cref="BatchNormRelu"/> (the same values, fewer passes over memory). The layers, parameters and state are the spec's either way.
    /// At most <paramref name="weightBudget"/> parameter values are allocated (<see cref="Layer.Build(TensorShape, Random, long)"/>).
    /// With <paramref name="winograd"/> false, every convolution runs the direct kernels (else Winograd where it fits).
    /// </summary>
    public static Sequential Build(NetworkSpec spec, int seed, bool fuse = true, long weightBudget = long.MaxValue, bool winograd = true)
    {
        var algorithm = winograd ? ConvolutionAlgorithm.Auto : ConvolutionAlgorithm.Direct;
        var model = new Sequential(spec.Input, spec.Layers.Select(l => ToLayer(l, algorithm)).ToArray()).Build(seed, weightBudget);
        if (fuse) model.Schedule(Fused(model.Layers));
        return model;
    }

    private static List<SequentialStep> Fused(IReadOnlyList<Layer> layers)
    {
        var steps = new List<SequentialStep>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is BatchNorm norm && i + 1 < layers.Count && layers[i + 1] is Relu)
            {
                var pool = i + 2 < layers.Count ? layers[i + 2] as MaxPool2D : null;
                steps.Add(new SequentialStep(new BatchNormRelu(norm, pool), i, pool is null ? 2 : 3));
                i += pool is null ? 1 : 2;
            }
            else
            {
                steps.Add(new SequentialStep(layers[i], i, 1));
            }
        }
        return steps;
    }

    private static Layer ToLayer(LayerSpec spec, ConvolutionAlgorithm convolution) => spec switch
    {
        Conv2DSpec conv => new Conv2D(conv.Filters, conv.KernelSize, conv.Padding) { Algorithm = convolution },
        DenseSpec dense => new Dense(dense.Units),
        BatchNormSpec norm => new BatchNorm(norm.Momentum, norm.Epsilon),
        ReluSpec => new Relu(),
        MaxPoolSpec pool => new MaxPool2D(pool.Pool),
        DropoutSpec dropout => new Dropout(dropout.Rate),
        FlattenSpec => new Flatten(),
        _ => throw new ArgumentException($"Unknown layer spec {spec.GetType().Name}."),
    };
}
