namespace Mnist.Core.Data;

/// <summary>
/// The one exception every loader and model reader throws for bad input. Its message is a single line
/// naming the file, the line or record where that applies, and what was wrong.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="problem"/> in <paramref name="filePath"/>, at <paramref name="location"/> ("line 17", "record 3") when one applies.</summary>
    public DataFormatException(string filePath, string problem, string? location = null, Exception? inner = null)
        : base(Format(filePath, location, problem), inner)
    {
        FilePath = filePath;
        Location = location;
        Problem = problem;
    }

    /// <summary>The file that was being read.</summary>
    public string FilePath { get; }
    /// <summary>"line 17", "record 3", "header", or null when the whole file is at fault.</summary>
    public string? Location { get; }
    /// <summary>What was wrong, without the file name.</summary>
    public string Problem { get; }

    private static string Format(string filePath, string? location, string problem) =>
        location is null ? $"{filePath}: {problem}" : $"{filePath}, {location}: {problem}";
}
