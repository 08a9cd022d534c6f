using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;

namespace Mnist.Cnn.Backends.Own;

/// <summary>Compiles a <see cref="NetworkSpec"/> into our own layers: a <see cref="Sequential"/>, which is itself the own backend's network.</summary>
internal static class OwnBackend
{
    /// <summary>The layers for <paramref name="spec"/>, shapes fixed and parameters initialised from <paramref name="seed"/>.</summary>
    public static Sequential Build(NetworkSpec spec, int seed) =>
        new Sequential(spec.Input, spec.Layers.Select(ToLayer).ToArray()).Build(seed);

    private static Layer ToLayer(LayerSpec spec) => spec switch
    {
        Conv2DSpec conv => new Conv2D(conv.Filters, conv.KernelSize, conv.Padding),
        DenseSpec dense => new Dense(dense.Units),
        BatchNormSpec norm => new BatchNorm(norm.Momentum, norm.Epsilon),
        ReluSpec => new Relu(),
        MaxPoolSpec pool => new MaxPool2D(pool.Pool),
        DropoutSpec dropout => new Dropout(dropout.Rate),
        FlattenSpec => new Flatten(),
        _ => throw new ArgumentException($"Unknown layer spec {spec.GetType().Name}."),
    };
}
