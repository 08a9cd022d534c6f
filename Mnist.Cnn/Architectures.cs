using Mnist.Cnn.Layers;
using Mnist.Cnn.Networks;

namespace Mnist.Cnn;

/// <summary>The catalog's network definitions, written to read like the architecture; every backend compiles the same ones.</summary>
public static class Architectures
{
    private static readonly TensorShape Mnist = new(28, 28, 1);

    /// <summary>784-256-256-10 with ReLU and dropout.</summary>
    public static NetworkSpec Mlp(TensorShape? input = null) => new(input ?? Mnist,
        new DenseSpec(256), new ReluSpec(), new DropoutSpec(0.2),
        new DenseSpec(256), new ReluSpec(), new DropoutSpec(0.2),
        new DenseSpec(10));

    /// <summary>The classic Kaggle CNN: (Conv32 5×5)×2 → pool → dropout → (Conv64 3×3)×2 → pool → dropout → Dense 256 → dropout → 10, with BatchNorm.</summary>
    public static NetworkSpec Cnn(TensorShape? input = null) => new(input ?? Mnist,
        new Conv2DSpec(32, 5), new BatchNormSpec(), new ReluSpec(),
        new Conv2DSpec(32, 5), new BatchNormSpec(), new ReluSpec(),
        new MaxPoolSpec(2), new DropoutSpec(0.25),
        new Conv2DSpec(64, 3), new BatchNormSpec(), new ReluSpec(),
        new Conv2DSpec(64, 3), new BatchNormSpec(), new ReluSpec(),
        new MaxPoolSpec(2), new DropoutSpec(0.25),
        new FlattenSpec(),
        new DenseSpec(256), new BatchNormSpec(), new ReluSpec(), new DropoutSpec(0.5),
        new DenseSpec(10));

    /// <summary>
    /// A VGG-style CNN, all 3×3: (Conv32)×2 → pool → dropout → (Conv64)×2 → pool → dropout → Conv128 → dropout →
    /// Dense 256 → dropout → 10, with BatchNorm. A second architecture for ensembles: about 3/4 of <see cref="Cnn"/>'s
    /// arithmetic and other receptive fields (measured: as accurate as cnn, and its errors overlap cnn's about as
    /// much as another seed's do; README, "Ensembles").
    /// </summary>
    public static NetworkSpec CnnVgg(TensorShape? input = null) => new(input ?? Mnist,
        new Conv2DSpec(32, 3), new BatchNormSpec(), new ReluSpec(),
        new Conv2DSpec(32, 3), new BatchNormSpec(), new ReluSpec(),
        new MaxPoolSpec(2), new DropoutSpec(0.25),
        new Conv2DSpec(64, 3), new BatchNormSpec(), new ReluSpec(),
        new Conv2DSpec(64, 3), new BatchNormSpec(), new ReluSpec(),
        new MaxPoolSpec(2), new DropoutSpec(0.25),
        new Conv2DSpec(128, 3), new BatchNormSpec(), new ReluSpec(), new DropoutSpec(0.25),
        new FlattenSpec(),
        new DenseSpec(256), new BatchNormSpec(), new ReluSpec(), new DropoutSpec(0.5),
        new DenseSpec(10));

    /// <summary>A quick CNN: Conv32 3×3 → pool → Conv64 3×3 → pool → Dense 128 → 10.</summary>
    public static NetworkSpec CnnSmall(TensorShape? input = null) => new(input ?? Mnist,
        new Conv2DSpec(32, 3), new ReluSpec(), new MaxPoolSpec(2),
        new Conv2DSpec(64, 3), new ReluSpec(), new MaxPoolSpec(2),
        new FlattenSpec(),
        new DenseSpec(128), new ReluSpec(),
        new DenseSpec(10));
}
