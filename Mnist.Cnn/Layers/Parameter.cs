namespace Mnist.Cnn.Layers;

/// <summary>A trainable tensor with its gradient. Weight decay applies only where <see cref="Decay"/> is true (not to biases or BatchNorm).</summary>
public sealed class Parameter(string name, int length, bool decay)
{
    public string Name { get; } = name;
    public float[] Value { get; } = new float[length];
    public float[] Gradient { get; } = new float[length];
    public bool Decay { get; } = decay;
    public int Length => Value.Length;
}
