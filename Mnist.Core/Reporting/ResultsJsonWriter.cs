using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mnist.Core.Reporting;

/// <summary>
/// Writes <see cref="ExperimentResults"/> as results.json: System.Text.Json, camelCase, indented,
/// with each confusion-matrix row kept on one line.
/// </summary>
public static class ResultsJsonWriter
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
            writer.WriteStartArray();
            var row = new StringBuilder();
            foreach (int[] cells in value)
            {
                row.Clear().Append('[');
                for (int i = 0; i < cells.Length; i++)
                {
                    if (i > 0) row.Append(", ");
                    row.Append(cells[i].ToString(CultureInfo.InvariantCulture));
                }
                row.Append(']');
                writer.WriteRawValue(row.ToString(), skipInputValidation: true);
            }
            writer.WriteEndArray();
        }
    }
}
