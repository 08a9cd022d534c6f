namespace Mnist.Baselines.Common;

/// <summary>Options read back from a model payload are checked like user input; a failure there means a malformed file.</summary>
internal static class PayloadOptions
{
    /// <summary>Runs <paramref name="validate"/>, turning its <see cref="ArgumentException"/> into <see cref="InvalidDataException"/> (which ModelFile reports as a data-format error).</summary>
    public static T Validated<T>(T options, Action<T> validate)
    {
        try
        {
            validate(options);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        return options;
    }
}
