namespace Mnist.Core.Data;

/// <summary>Byte pixels 0..255 to float32 in [0,1], as value / 255f exactly, shared by every loader.</summary>
public static class PixelScale
{
    /// <summary>value / 255f for every byte value (a table keeps the division exact and out of the hot loop).</summary>
    public static readonly float[] Table = Enumerable.Range(0, 256).Select(v => v / 255f).ToArray();

    public static void ToUnit(ReadOnlySpan<byte> source, Span<float> destination)
    {
        var table = Table;
        for (int i = 0; i < source.Length; i++) destination[i] = table[source[i]];
    }
}
