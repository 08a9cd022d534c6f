using Mnist.Core.Data;

namespace Mnist.Core.Training;

/// <summary>The argument checks every <see cref="ITrainer.Fit"/> shares.</summary>
internal static class FitArguments
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the training view is labelled and non-empty and the
    /// validation view (when given) is labelled with the same image size. Returns the validation view to
    /// use: null when none was given or it is empty.
    /// </summary>
    public static DigitDataView? Check(DigitDataView train, DigitDataView? validation)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!train.HasLabels) throw new ArgumentException("The training data has no labels.", nameof(train));
        if (train.Count == 0) throw new ArgumentException("The training data is empty.", nameof(train));
        if (validation is null || validation.Count == 0) return null;
        if (!validation.HasLabels || validation.PixelCount != train.PixelCount)
            throw new ArgumentException("The validation data must be labelled and have the training data's image size.", nameof(validation));
        return validation;
    }
}
