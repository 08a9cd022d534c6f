using Mnist.Cnn.Layers;

namespace Mnist.Cnn;

/// <summary>The catalog's network definitions, written to read like the architecture.</summary>
public static class Architectures
{
    private static readonly TensorShape Mnist = new(28, 28, 1);

    /// <summary>784-256-256-10 with ReLU and dropout.</summary>
    public static Sequential Mlp(TensorShape? input = null) => new(input ?? Mnist,
        new Dense(256), new Relu(), new Dropout(0.2),
        new Dense(256), new Relu(), new Dropout(0.2),
        new Dense(10));

    /// <summary>The classic Kaggle CNN: (Conv32 5×5)×2 → pool → dropout → (Conv64 3×3)×2 → pool → dropout → Dense 256 → dropout → 10, with BatchNorm.</summary>
    public static Sequential Cnn(TensorShape? input = null) => new(input ?? Mnist,
        new Conv2D(32, 5), new BatchNorm(), new Relu(),
        new Conv2D(32, 5), new BatchNorm(), new Relu(),
        new MaxPool2D(2), new Dropout(0.25),
        new Conv2D(64, 3), new BatchNorm(), new Relu(),
        new Conv2D(64, 3), new BatchNorm(), new Relu(),
        new MaxPool2D(2), new Dropout(0.25),
        new Flatten(),
        new Dense(256), new BatchNorm(), new Relu(), new Dropout(0.5),
        new Dense(10));

    /// <summary>A quick CNN: Conv32 3×3 → pool → Conv64 3×3 → pool → Dense 128 → 10.</summary>
    public static Sequential CnnSmall(TensorShape? input = null) => new(input ?? Mnist,
        new Conv2D(32, 3), new Relu(), new MaxPool2D(2),
        new Conv2D(64, 3), new Relu(), new MaxPool2D(2),
        new Flatten(),
        new Dense(128), new Relu(),
        new Dense(10));
}
