using System.Globalization;

namespace Mnist.Core.Training.Ensembles;

/// <summary>One member of an ensemble: a catalog trainer and the hyperparameter overrides it was given.</summary>
/// <param name="Trainer">The catalog name, in the catalog's spelling.</param>
/// <param name="Overrides">Hyperparameter overrides (name → text), as written inside the parentheses.</param>
internal sealed record EnsembleMember(string Trainer, IReadOnlyDictionary<string, string> Overrides);

/// <summary>
/// The member list of an ensemble, <c>member ((',' | '+') member)*</c> with
/// <c>member = name ['(' name=value (',' name=value)* ')'] ['*' count]</c>: <c>cnn*5</c>,
/// <c>cnn,cnn-small,kernel-svm</c>, <c>cnn(epochs=3,batch-size=64)*2+knn(k=5)</c>. '+' is there for
/// <c>mnist grid</c>, which splits values on the commas outside parentheses.
/// </summary>
internal static class EnsembleMembers
{
    public const int MaxMembers = 100;
    public const int MaxTta = 64;

    /// <summary>Parses <paramref name="text"/>; a syntax error, an unknown trainer or a nested ensemble is an <see cref="ArgumentException"/>.</summary>
    public static IReadOnlyList<EnsembleMember> Parse(string text, TrainerCatalog catalog, string ensembleName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var members = new List<EnsembleMember>();
        int position = 0;
        while (true)
        {
            SkipBlanks(text, ref position);
            int start = position;
            while (position < text.Length && text[position] is not ('(' or '*' or ',' or '+')) position++;
            string name = text[start..position].Trim();
            if (name.Length == 0) throw Error(text, start, "a trainer name");
            var registration = catalog.TryFind(name)
                ?? throw new ArgumentException($"Hyperparameter 'members': unknown trainer '{name}'; known trainers: {string.Join(", ", catalog.Names.Where(n => n != ensembleName))}.");
            if (string.Equals(registration.Name, ensembleName, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException("Hyperparameter 'members': an ensemble cannot be a member of an ensemble.");
            var overrides = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            SkipBlanks(text, ref position);
            if (position < text.Length && text[position] == '(')
            {
                position++;
                while (true)
                {
                    int itemStart = position;
                    while (position < text.Length && text[position] is not (',' or ')')) position++;
                    if (position == text.Length) throw Error(text, itemStart, "')'");
                    string item = text[itemStart..position];
                    int equals = item.IndexOf('=');
                    if (equals <= 0 || item[..equals].Trim().Length == 0) throw Error(text, itemStart, "name=value");
                    overrides[item[..equals].Trim()] = item[(equals + 1)..].Trim();
                    if (text[position++] == ')') break;
                }
                SkipBlanks(text, ref position);
            }
            int count = 1;
            if (position < text.Length && text[position] == '*')
            {
                int countStart = ++position;
                while (position < text.Length && text[position] is not (',' or '+')) position++;
                if (!int.TryParse(text[countStart..position].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxMembers)
                    throw Error(text, countStart, $"a count in 1..{MaxMembers}");
            }
            if (members.Count + count > MaxMembers) throw new ArgumentException($"Hyperparameter 'members': more than {MaxMembers} members.");
            for (int i = 0; i < count; i++) members.Add(new EnsembleMember(registration.Name, overrides));
            SkipBlanks(text, ref position);
            if (position == text.Length) return members;
            if (text[position] is not (',' or '+')) throw Error(text, position, "',' or '+' between members");
            position++;
        }
    }

    private static void SkipBlanks(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position])) position++;
    }

    private static ArgumentException Error(string text, int position, string expected) =>
        new($"Hyperparameter 'members': expected {expected} at position {position + 1} of '{text}' (syntax: name[(param=value,...)][*count], members separated by ',' or '+').");
}
