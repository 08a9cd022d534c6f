using Mnist.Core.Data;

namespace Mnist.Baselines.Common;

/// <summary>The argument check every baseline model's <c>PredictProbabilities</c> makes before writing.</summary>
internal static class ProbabilityOutput
{
    /// <summary><paramref name="data"/> is given and <paramref name="probabilities"/> holds its data.Count × 10 values.</summary>
    public static void Check(DigitDataView data, ReadOnlySpan<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(data);
        int needed = data.Count * DigitDataView.ClassCount;
        if (probabilities.Length < needed)
            throw new ArgumentException($"Need {needed} probabilities, got a span of {probabilities.Length}.", nameof(probabilities));
    }
}
