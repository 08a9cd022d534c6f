using System.Text.Json;
using Mnist.Core.Reporting;

namespace Mnist.Runner.Common;

/// <summary>
/// An earlier run's results.json read back (compare --resume, merge of shards); every failure is a
/// <see cref="UsageException"/> naming the folder or the file.
/// </summary>
internal static class RecordedResults
{
    /// <summary>Parses FOLDER/results.json and hands its path and root object to <paramref name="read"/> (the document is disposed after).</summary>
    /// <param name="folder">The run's folder.</param>
    /// <param name="noFolder">The error when <paramref name="folder"/> does not exist.</param>
    /// <param name="noFile">The error when it holds no results.json.</param>
    /// <param name="invalid">What the file is said not to be when it is not JSON, or not what <paramref name="read"/> can deserialize.</param>
    /// <param name="read">Reads what the caller needs; cloning what outlives the document.</param>
    public static T Read<T>(string folder, string noFolder, string noFile, string invalid, Func<string, JsonElement, T> read)
    {
        if (!Directory.Exists(folder)) throw new UsageException(noFolder);
        string path = Path.Combine(folder, ResultsJsonWriter.FileName);
        if (!File.Exists(path)) throw new UsageException(noFile);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UsageException($"{path}: not a results file");
            return read(path, root);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
            throw new UsageException($"{path}: {invalid} ({e.Message.Replace('\n', ' ')})");
        }
        catch (IOException e)
        {
            throw new UsageException($"{path}: cannot read ({e.Message})");
        }
    }

    /// <summary>The string property <paramref name="name"/> of <paramref name="element"/>, or null when absent or not a string.</summary>
    public static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
