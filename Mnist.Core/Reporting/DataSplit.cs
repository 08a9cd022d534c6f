using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mnist.Core.Reporting;

/// <summary>Which part of the data a figure comes from; results.json writes it as "train", "validation" or "test".</summary>
[JsonConverter(typeof(DataSplitJsonConverter))]
public enum DataSplit
{
    /// <summary>The images the models were fitted on.</summary>
    Train,
    /// <summary>The held-out validation images.</summary>
    Validation,
    /// <summary>The test images.</summary>
    Test,
}

/// <summary>The lower-case names of <see cref="DataSplit"/>, for reports and results.json.</summary>
internal static class DataSplitNames
{
    public static string Name(this DataSplit split) => split.ToString().ToLowerInvariant();
}

internal sealed class DataSplitJsonConverter() : JsonStringEnumConverter<DataSplit>(JsonNamingPolicy.CamelCase, allowIntegerValues: false);
