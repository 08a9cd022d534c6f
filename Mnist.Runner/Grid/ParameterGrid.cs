using Mnist.Core.Training;

namespace Mnist.Runner.Grid;

/// <summary>One axis of a grid: a hyperparameter name and the values to try, in the order given.</summary>
public sealed record GridAxis(string Name, IReadOnlyList<string> Values);

/// <summary>Parses <c>--param name=v1,v2,...</c> into axes and enumerates every combination.</summary>
public static class ParameterGrid
{
    /// <summary>The axes, in the order given; a malformed or repeated name is a <see cref="UsageException"/>.</summary>
    public static IReadOnlyList<GridAxis> Parse(IEnumerable<string> parameters)
    {
        var axes = new List<GridAxis>();
        foreach (string text in parameters)
        {
            int equals = text.IndexOf('=');
            if (equals <= 0 || string.IsNullOrWhiteSpace(text[..equals]))
                throw new UsageException($"--param '{text}' must look like name=value1,value2,...");
            string name = text[..equals].Trim();
            var values = SplitValues(text[(equals + 1)..]);
            if (values.Any(v => v.Length == 0))
                throw new UsageException($"--param '{text}' has an empty value; separate values with single commas");
            if (values.Distinct(StringComparer.Ordinal).Count() != values.Count)
                throw new UsageException($"--param '{text}' lists a value twice");
            if (axes.Any(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                throw new UsageException($"--param '{name}' is given twice; list all its values in one --param {name}=v1,v2,...");
            axes.Add(new GridAxis(name, values));
        }
        return axes;
    }

    /// <summary>
    /// The comma-separated values, trimmed; a comma inside parentheses belongs to its value, so an ensemble's member
    /// with several overrides, <c>cnn(epochs=3,batch-size=64)*2+knn</c>, is one value.
    /// </summary>
    private static List<string> SplitValues(string text)
    {
        var values = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth = Math.Max(0, depth - 1);
            else if (text[i] == ',' && depth == 0)
            {
                values.Add(text[start..i].Trim());
                start = i + 1;
            }
        }
        values.Add(text[start..].Trim());
        return values;
    }

    /// <summary>
    /// The axes in the trainer's spelling ("trainer.name" loses its prefix), every value parsed and range-checked
    /// by the trainer's schema before anything trains; an unknown name or a bad value is a <see cref="UsageException"/>.
    /// </summary>
    public static IReadOnlyList<GridAxis> Resolve(IReadOnlyList<GridAxis> axes, TrainerRegistration trainer)
    {
        var resolved = new List<GridAxis>();
        foreach (var axis in axes)
        {
            string bare = axis.Name.StartsWith(trainer.Name + ".", StringComparison.OrdinalIgnoreCase) ? axis.Name[(trainer.Name.Length + 1)..] : axis.Name;
            var parameter = trainer.Hyperparameters.Find(bare)
                ?? throw new UsageException($"--param '{axis.Name}': trainer '{trainer.Name}' has no hyperparameter '{bare}'" +
                                            $" (it has: {string.Join(", ", trainer.Hyperparameters.Parameters.Select(p => p.Name))})");
            if (resolved.Any(a => a.Name == parameter.Name))
                throw new UsageException($"--param '{parameter.Name}' is given twice; list all its values in one --param {parameter.Name}=v1,v2,...");
            foreach (string value in axis.Values)
            {
                try
                {
                    parameter.Parse(value);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--param '{axis.Name}={string.Join(',', axis.Values)}': {e.Message}");
                }
            }
            resolved.Add(axis with { Name = parameter.Name });
        }
        return resolved;
    }

    /// <summary>Every combination as (name, value) pairs, the last axis varying fastest; one empty combination for no axes.</summary>
    public static IReadOnlyList<IReadOnlyList<(string Name, string Value)>> Combinations(IReadOnlyList<GridAxis> axes)
    {
        IEnumerable<IReadOnlyList<(string, string)>> result = [[]];
        foreach (var axis in axes)
            result = result.SelectMany(prefix => axis.Values.Select(value => (IReadOnlyList<(string, string)>)[.. prefix, (axis.Name, value)])).ToList();
        return result.ToList();
    }
}
