using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mnist.Core.IO;

namespace Mnist.Core.Reporting;

/// <summary>
/// Writes <see cref="ExperimentResults"/> as results.json: System.Text.Json, camelCase, indented,
/// with each confusion-matrix row kept on one line.
/// </summary>
internal static class ResultsJsonWriter
{
    public const string FileName = "results.json";

    /// <summary>The serializer options of the results.json contract (also right for reading it back).</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize(ExperimentResults results) => JsonSerializer.Serialize(results, Options);

    /// <summary>Writes the results atomically (temporary file renamed into place).</summary>
    public static void Write(string path, ExperimentResults results) =>
        AtomicFile.WriteAllText(path, Serialize(results) + "\n");

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            WriteIndented = true,
            // A diverged trainer may report NaN or ∞ losses; write them as strings rather than fail.
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new CompactMatrixConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Writes an int[][] as one line per row; reads any layout.</summary>
    private sealed class CompactMatrixConverter : JsonConverter<int[][]>
    {
        public override int[][]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.EnumerateArray()
                .Select(row => row.EnumerateArray().Select(cell => cell.GetInt32()).ToArray())
                .ToArray();
        }

        public override void Write(Utf8JsonWriter writer, int[][] value, JsonSerializerOptions options)
        {
            // One raw value with its own line breaks: Utf8JsonWriter does not indent raw values.
            bool indented = options.WriteIndented;
            string inner = indented ? "\n" + new string(' ', 2 * (writer.CurrentDepth + 1)) : "";
            string outer = indented ? "\n" + new string(' ', 2 * writer.CurrentDepth) : "";
            var text = new StringBuilder("[");
            for (int r = 0; r < value.Length; r++)
            {
                text.Append(r > 0 ? "," : "").Append(inner).Append('[');
                for (int i = 0; i < value[r].Length; i++)
                {
                    if (i > 0) text.Append(", ");
                    text.Append(value[r][i].ToString(CultureInfo.InvariantCulture));
                }
                text.Append(']');
            }
            text.Append(value.Length > 0 ? outer : "").Append(']');
            writer.WriteRawValue(text.ToString(), skipInputValidation: true);
        }
    }
}
