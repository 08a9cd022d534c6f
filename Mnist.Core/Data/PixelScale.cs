namespace Mnist.Core.Data;

/// <summary>Byte pixels 0..255 to float32 in [0,1], as value / 255f exactly, shared by every loader.</summary>
internal static class PixelScale
{
    /// <summary>value / 255f for every byte value (a table keeps the division exact and out of the hot loop).</summary>
    public static readonly float[] Table = Enumerable.Range(0, 256).Select(v => v / 255f).ToArray();

    public static void ToUnit(ReadOnlySpan<byte> source, Span<float> destination)
    {
        var table = Table;
        for (int i = 0; i < source.Length; i++) destination[i] = table[source[i]];
    }

    /// <summary>Whether every value is exactly some byte / 255f (so a model file may store the pixels as bytes, losslessly).</summary>
    internal static bool IsBytePixels(ReadOnlySpan<float> values)
    {
        var table = Table;
        foreach (float v in values)
            if (!(v >= 0f && v <= 1f) || table[(int)MathF.Round(v * 255f)] != v) return false;
        return true;
    }
}
