namespace Mnist.Cnn.Layers;

/// <summary>The shape of one sample's activations, stored channels-last (NHWC): index = (y·Width + x)·Channels + c.</summary>
public readonly record struct TensorShape(int Height, int Width, int Channels)
{
    public int Size => checked(Height * Width * Channels);

    /// <summary>A flat vector of <paramref name="length"/> features (1×1×length).</summary>
    public static TensorShape Vector(int length) => new(1, 1, length);

    public override string ToString() => Height == 1 && Width == 1 ? $"{Channels}" : $"{Height}×{Width}×{Channels}";
}
