namespace Mnist.Build.TorchCompat;

/// <summary>What <see cref="SymbolVersionPatch.Apply"/> found and did.</summary>
internal enum PatchOutcome
{
    /// <summary>The file did not need the version at all: nothing to do.</summary>
    NotNeeded,
    /// <summary>The symbol was made unversioned and the needed version weak.</summary>
    Patched,
    /// <summary>An earlier run had already made both edits.</summary>
    AlreadyPatched,
}

/// <summary>
/// Lets a shared object load where a library it links against lacks one symbol version. Two 2-byte edits:
/// the symbol's .gnu.version entry becomes 1 (global: it binds to any definition, e.g. one from a library
/// loaded earlier with RTLD_GLOBAL), and the version's vernaux record gets VER_FLG_WEAK so that the dynamic
/// loader accepts a library without it. Refuses when any other symbol needs that version, since those could
/// then not be bound.
/// </summary>
internal static class SymbolVersionPatch
{
    public static PatchOutcome Apply(ElfImage image, string symbol, string version)
    {
        var needs = image.Needs.Where(n => n.Name == version).ToArray();
        var targets = image.Symbols.Where(s => s.Name == symbol).ToArray();
        if (needs.Length == 0) return PatchOutcome.NotNeeded;
        if (needs.Length > 1) throw new InvalidDataException($"{image.Name}: {version} is needed from more than one library");
        var need = needs[0];
        var others = image.Symbols.Where(s => s.Version == need.Index && s.Name != symbol).Select(s => s.Name).ToArray();
        if (others.Length > 0)
            throw new InvalidDataException($"{image.Name}: {others.Length} other symbol(s) need {version} too (first: {others[0]}); making it weak would leave them unbound");
        if (targets.Length == 0) throw new InvalidDataException($"{image.Name}: needs {version} but has no symbol {symbol}");
        if (targets.Any(s => s.VersionOffset < 0)) throw new InvalidDataException($"{image.Name}: {symbol} has no .gnu.version entry");

        var versioned = targets.Where(s => s.Version == need.Index).ToArray();
        bool weak = (need.Flags & ElfImage.WeakVersionFlag) != 0;
        if (versioned.Length == 0 && weak) return PatchOutcome.AlreadyPatched;
        foreach (var target in versioned) image.SetSymbolVersion(target, ElfImage.GlobalVersionIndex);
        image.SetNeedFlags(need, (ushort)(need.Flags | ElfImage.WeakVersionFlag));
        return PatchOutcome.Patched;
    }
}
