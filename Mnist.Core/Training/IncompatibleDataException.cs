using Mnist.Core.Data;

namespace Mnist.Core.Training;

/// <summary>
/// Well-formed data that a trainer (with its hyperparameters) or a trained model cannot take: images of
/// another size than a model was trained on, or too small for a network's layers. Bad input, not a bug:
/// the runner reports it as one error line before any training.
/// </summary>
public sealed class IncompatibleDataException(string message) : ArgumentException(message)
{
    /// <summary>Throws unless <paramref name="data"/> has the <paramref name="expected"/> pixels per image a model was trained on.</summary>
    public static void ThrowIfPixelCount(int expected, DigitDataView data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.PixelCount != expected)
            throw new IncompatibleDataException(
                $"the model was trained on images of {expected} pixels{SquareSide(expected)}; these are {data.Height}×{data.Width} ({data.PixelCount} pixels)");
    }

    private static string SquareSide(int pixels)
    {
        int side = (int)Math.Round(Math.Sqrt(pixels));
        return side * side == pixels ? $" ({side}×{side})" : "";
    }
}
