using Mnist.Cnn.Layers;

namespace Mnist.Cnn.Networks;

/// <summary>
/// One layer of a backend-neutral network definition. A backend compiles the specs: our own layers
/// (<see cref="Backends.Own.OwnBackend"/>) or LibTorch operations (<see cref="Backends.Torch.TorchNetwork"/>).
/// </summary>
public abstract record LayerSpec
{
    /// <summary>Writes the layer's kind and configuration (the names and fields of model files since their first version).</summary>
    internal abstract void Write(BinaryWriter writer);
}

/// <summary>2-D convolution, stride 1, with <paramref name="Filters"/> output channels.</summary>
public sealed record Conv2DSpec(int Filters, int KernelSize, Padding Padding = Padding.Same) : LayerSpec
{
    internal override void Write(BinaryWriter writer)
    {
        writer.Write("Conv2D");
        writer.Write(Filters);
        writer.Write(KernelSize);
        writer.Write((int)Padding);
    }
}

/// <summary>Fully connected layer of <paramref name="Units"/> outputs (an image input is flattened first, channels last).</summary>
public sealed record DenseSpec(int Units) : LayerSpec
{
    internal override void Write(BinaryWriter writer)
    {
        writer.Write("Dense");
        writer.Write(Units);
    }
}

/// <summary>Batch normalisation over the channel axis; running averages move by 1 − <paramref name="Momentum"/> per batch (Keras' convention).</summary>
public sealed record BatchNormSpec(double Momentum = 0.99, double Epsilon = 1e-3) : LayerSpec
{
    internal override void Write(BinaryWriter writer)
    {
        writer.Write("BatchNorm");
        writer.Write(Momentum);
        writer.Write(Epsilon);
    }
}

public sealed record ReluSpec : LayerSpec
{
    internal override void Write(BinaryWriter writer) => writer.Write("Relu");
}

/// <summary>Max pooling over non-overlapping <paramref name="Pool"/>×<paramref name="Pool"/> windows.</summary>
public sealed record MaxPoolSpec(int Pool = 2) : LayerSpec
{
    internal override void Write(BinaryWriter writer)
    {
        writer.Write("MaxPool2D");
        writer.Write(Pool);
    }
}

/// <summary>Inverted dropout of <paramref name="Rate"/> in training, the identity in inference.</summary>
public sealed record DropoutSpec(double Rate) : LayerSpec
{
    internal override void Write(BinaryWriter writer)
    {
        writer.Write("Dropout");
        writer.Write(Rate);
    }
}

/// <summary>H×W×C activations as one vector, channels last.</summary>
public sealed record FlattenSpec : LayerSpec
{
    internal override void Write(BinaryWriter writer) => writer.Write("Flatten");
}

/// <summary>A network: the input shape of one sample and its layers in order (Keras' Sequential definition).</summary>
public sealed record NetworkSpec(TensorShape Input, IReadOnlyList<LayerSpec> Layers)
{
    public NetworkSpec(TensorShape input, params LayerSpec[] layers) : this(input, (IReadOnlyList<LayerSpec>)layers) { }

    /// <summary>Writes the input shape and every layer's kind and configuration (the architecture part of a model file).</summary>
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Input.Height);
        writer.Write(Input.Width);
        writer.Write(Input.Channels);
        writer.Write(Layers.Count);
        foreach (var layer in Layers) layer.Write(writer);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; malformed content raises <see cref="InvalidDataException"/>.</summary>
    internal static NetworkSpec Read(BinaryReader reader)
    {
        var input = new TensorShape(ReadBounded(reader, 1, 4096), ReadBounded(reader, 1, 4096), ReadBounded(reader, 1, 4096));
        var layers = new LayerSpec[ReadBounded(reader, 1, 1000)];
        for (int i = 0; i < layers.Length; i++)
        {
            string kind = reader.ReadString();
            layers[i] = kind switch
            {
                "Dense" => new DenseSpec(ReadBounded(reader, 1, 1 << 16)),
                "Conv2D" => new Conv2DSpec(ReadBounded(reader, 1, 4096), ReadBounded(reader, 1, 64), (Padding)ReadBounded(reader, 0, 1)),
                "MaxPool2D" => new MaxPoolSpec(ReadBounded(reader, 1, 64)),
                "Relu" => new ReluSpec(),
                "Flatten" => new FlattenSpec(),
                "Dropout" => new DropoutSpec(ReadFraction(reader)),
                "BatchNorm" => new BatchNormSpec(ReadFraction(reader), ReadPositive(reader)),
                _ => throw new InvalidDataException($"unknown layer kind '{kind}'"),
            };
        }
        return new NetworkSpec(input, layers);
    }

    private static int ReadBounded(BinaryReader reader, int min, int max)
    {
        int value = reader.ReadInt32();
        if (value < min || value > max) throw new InvalidDataException($"value {value} is outside {min}..{max}");
        return value;
    }

    private static double ReadPositive(BinaryReader reader)
    {
        double value = reader.ReadDouble();
        if (!(value > 0 && double.IsFinite(value))) throw new InvalidDataException($"value {value} is not a positive number");
        return value;
    }

    private static double ReadFraction(BinaryReader reader)
    {
        double value = reader.ReadDouble();
        if (!(value >= 0 && value < 1)) throw new InvalidDataException($"value {value} is outside [0, 1)");
        return value;
    }
}
