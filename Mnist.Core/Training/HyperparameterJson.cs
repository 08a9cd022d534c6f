using System.Text.Json;

namespace Mnist.Core.Training;

/// <summary>Hyperparameters as a JSON object, for model files: numbers come back as double, booleans as bool, the rest as strings.</summary>
public static class HyperparameterJson
{
    public static string Serialize(IReadOnlyDictionary<string, object> hyperparameters) => JsonSerializer.Serialize(hyperparameters);

    /// <summary>Parses a JSON object written by <see cref="Serialize"/>; anything else raises <see cref="InvalidDataException"/>.</summary>
    public static Dictionary<string, object> Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException("hyperparameters are not a JSON object");
            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object)(p.Value.ValueKind switch
            {
                JsonValueKind.Number => p.Value.GetDouble(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => p.Value.ToString(),
            }));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"malformed hyperparameters ({e.Message})");
        }
    }
}
