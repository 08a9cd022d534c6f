namespace Mnist.Core.Training;

/// <summary>
/// Derives independent, reproducible seeds from a base seed and indices (epoch, position, layer...).
/// Unlike <see cref="HashCode.Combine{T1,T2}"/>, which is randomised per process, the result depends only on the inputs.
/// </summary>
internal static class Seeds
{
    public static int Derive(int seed, int a) => (int)Mix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)a);

    public static int Derive(int seed, int a, int b) => Derive(Derive(seed, a), b);

    /// <summary>SplitMix64's finaliser: a bijective scramble of 64 bits (a counter-based random stream: Mix(base + i)).</summary>
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
