using System.Buffers.Binary;
using System.Text;

namespace Mnist.Build.TorchCompat;

/// <summary>
/// A 64-bit little-endian ELF shared object held in memory, read through its section headers: the dynamic
/// symbols with their names and version indices (.dynsym, .dynstr, .gnu.version), the versions it needs
/// (.gnu.version_r) and the versions it defines (.gnu.version_d). Sections are found by type, never by
/// offset or name; every read is bounds-checked and a malformed file raises <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class ElfImage
{
    private const uint SectionDynamicSymbols = 11;          // SHT_DYNSYM
    private const uint SectionVersionDefinitions = 0x6ffffffd; // SHT_GNU_verdef
    private const uint SectionVersionNeeds = 0x6ffffffe;       // SHT_GNU_verneed
    private const uint SectionSymbolVersions = 0x6fffffff;     // SHT_GNU_versym
    private const int SymbolEntrySize = 24;                 // sizeof(Elf64_Sym)

    /// <summary>VER_FLG_WEAK: a missing needed version is a warning, not an error, for the dynamic loader.</summary>
    public const ushort WeakVersionFlag = 0x2;

    /// <summary>VER_NDX_GLOBAL: the symbol binds to whatever definition is found, unversioned.</summary>
    public const ushort GlobalVersionIndex = 1;

    private readonly byte[] _bytes;
    private readonly DynamicSymbol[] _symbols;
    private readonly NeededVersion[] _needs;

    public ElfImage(byte[] bytes, string name)
    {
        _bytes = bytes;
        Name = name;
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw Malformed("not an ELF file");
        if (bytes[4] != 2) throw Malformed("not a 64-bit ELF file");
        if (bytes[5] != 1) throw Malformed("not a little-endian ELF file");

        ulong sectionHeaders = U64(0x28);
        ushort headerSize = U16(0x3A), sectionCount = U16(0x3C);
        if (headerSize != 64) throw Malformed($"section header size {headerSize}, expected 64");
        if (sectionCount == 0) throw Malformed("no section headers");
        Sections = new Section[sectionCount];
        for (int i = 0; i < sectionCount; i++)
        {
            int at = Checked(sectionHeaders + (ulong)i * 64, 64, "section header");
            Sections[i] = new Section(U32(at + 4), U64(at + 24), U64(at + 32), U32(at + 40), U32(at + 44), U64(at + 56));
        }
        _symbols = ReadSymbols();
        _needs = ReadNeeds();
        Definitions = ReadDefinitions();
    }

    public string Name { get; }

    /// <summary>The (patched) file contents.</summary>
    public byte[] Bytes => _bytes;

    internal Section[] Sections { get; }

    /// <summary>Every dynamic symbol with its version index (<c>Version</c> without the hidden bit; 0 = local, 1 = global).</summary>
    public IReadOnlyList<DynamicSymbol> Symbols => _symbols;

    /// <summary>Every version this file needs from another library (one entry per vernaux record).</summary>
    public IReadOnlyList<NeededVersion> Needs => _needs;

    /// <summary>The names of the versions this file defines (empty when it has no .gnu.version_d).</summary>
    public IReadOnlyList<string> Definitions { get; }

    /// <summary>Sets one symbol's 2-byte .gnu.version entry (in the bytes and in <see cref="Symbols"/>).</summary>
    public void SetSymbolVersion(DynamicSymbol symbol, ushort version)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(symbol.VersionOffset, 2), version);
        _symbols[symbol.Index] = symbol with { Version = (ushort)(version & 0x7fff) };
    }

    /// <summary>Sets one needed version's 2-byte vna_flags (in the bytes and in <see cref="Needs"/>).</summary>
    public void SetNeedFlags(NeededVersion need, ushort flags)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(need.FlagsOffset, 2), flags);
        int index = Array.IndexOf(_needs, need);
        if (index < 0) throw new ArgumentException($"{need.Name} is not a needed version of {Name}", nameof(need));
        _needs[index] = need with { Flags = flags };
    }

    private DynamicSymbol[] ReadSymbols()
    {
        var symbolTable = Single(SectionDynamicSymbols, ".dynsym");
        if (symbolTable is null) return [];
        if (symbolTable.Value.EntrySize != SymbolEntrySize) throw Malformed($".dynsym entry size {symbolTable.Value.EntrySize}, expected {SymbolEntrySize}");
        var strings = LinkedStrings(symbolTable.Value, ".dynsym");
        int count = (int)(symbolTable.Value.Size / SymbolEntrySize);
        int symbolsAt = Checked(symbolTable.Value.Offset, (long)count * SymbolEntrySize, ".dynsym");

        var versions = Single(SectionSymbolVersions, ".gnu.version");
        int versionsAt = -1;
        if (versions is not null)
        {
            if (versions.Value.Size != (ulong)count * 2) throw Malformed($".gnu.version has {versions.Value.Size / 2} entries for {count} symbols");
            versionsAt = Checked(versions.Value.Offset, count * 2L, ".gnu.version");
        }

        var symbols = new DynamicSymbol[count];
        for (int i = 0; i < count; i++)
        {
            string name = String(strings, U32(symbolsAt + i * SymbolEntrySize), ".dynsym");
            int versionOffset = versionsAt < 0 ? -1 : versionsAt + i * 2;
            ushort version = versionOffset < 0 ? GlobalVersionIndex : U16(versionOffset);
            symbols[i] = new DynamicSymbol(i, name, (ushort)(version & 0x7fff), versionOffset);
        }
        return symbols;
    }

    private NeededVersion[] ReadNeeds()
    {
        var section = Single(SectionVersionNeeds, ".gnu.version_r");
        if (section is null) return [];
        var strings = LinkedStrings(section.Value, ".gnu.version_r");
        int start = Checked(section.Value.Offset, (long)section.Value.Size, ".gnu.version_r");
        int end = start + (int)section.Value.Size;
        var needs = new List<NeededVersion>();
        int at = start;
        for (uint file = 0; file < section.Value.Info; file++) // sh_info: number of Elf64_Verneed records
        {
            if (at < start || at + 16 > end) throw Malformed(".gnu.version_r record outside its section");
            ushort auxCount = U16(at + 2);
            string library = String(strings, U32(at + 4), ".gnu.version_r");
            int aux = at + (int)U32(at + 8);
            for (int a = 0; a < auxCount; a++)
            {
                if (aux < start || aux + 16 > end) throw Malformed(".gnu.version_r entry outside its section");
                needs.Add(new NeededVersion(library, String(strings, U32(aux + 8), ".gnu.version_r"), U16(aux + 6), U16(aux + 4), aux + 4));
                aux += (int)U32(aux + 12);
            }
            uint next = U32(at + 12);
            if (next == 0) break;
            at += (int)next;
        }
        return needs.ToArray();
    }

    private string[] ReadDefinitions()
    {
        var section = Single(SectionVersionDefinitions, ".gnu.version_d");
        if (section is null) return [];
        var strings = LinkedStrings(section.Value, ".gnu.version_d");
        int start = Checked(section.Value.Offset, (long)section.Value.Size, ".gnu.version_d");
        int end = start + (int)section.Value.Size;
        var names = new List<string>();
        int at = start;
        for (uint definition = 0; definition < section.Value.Info; definition++) // sh_info: number of Elf64_Verdef records
        {
            if (at < start || at + 20 > end) throw Malformed(".gnu.version_d record outside its section");
            int aux = at + (int)U32(at + 12);
            if (U16(at + 6) > 0) // the first Elf64_Verdaux names the version itself; later ones are its parents
            {
                if (aux < start || aux + 8 > end) throw Malformed(".gnu.version_d entry outside its section");
                names.Add(String(strings, U32(aux), ".gnu.version_d"));
            }
            uint next = U32(at + 16);
            if (next == 0) break;
            at += (int)next;
        }
        return names.ToArray();
    }

    private Section? Single(uint type, string what)
    {
        Section? found = null;
        foreach (var section in Sections)
        {
            if (section.Type != type) continue;
            if (found is not null) throw Malformed($"more than one {what} section");
            found = section;
        }
        return found;
    }

    private Section LinkedStrings(Section section, string what)
    {
        if (section.Link == 0 || section.Link >= Sections.Length) throw Malformed($"{what} links to no string table");
        var strings = Sections[section.Link];
        Checked(strings.Offset, (long)strings.Size, $"the string table of {what}");
        return strings;
    }

    private string String(Section strings, uint offset, string what)
    {
        if (offset >= strings.Size) throw Malformed($"a name in {what} points outside its string table");
        int start = (int)(strings.Offset + offset), limit = (int)(strings.Offset + strings.Size);
        int end = Array.IndexOf(_bytes, (byte)0, start, limit - start);
        if (end < 0) throw Malformed($"an unterminated name in {what}");
        return Encoding.ASCII.GetString(_bytes, start, end - start);
    }

    /// <summary>The file offset of <paramref name="length"/> bytes at <paramref name="offset"/>, when they lie inside the file.</summary>
    private int Checked(ulong offset, long length, string what)
    {
        if (length < 0 || offset > (ulong)_bytes.Length || (ulong)length > (ulong)_bytes.Length - offset)
            throw Malformed($"{what} lies outside the file");
        return (int)offset;
    }

    private ushort U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(Checked((ulong)at, 2, "a field"), 2));
    private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(Checked((ulong)at, 4, "a field"), 4));
    private ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(Checked((ulong)at, 8, "a field"), 8));

    private InvalidDataException Malformed(string what) => new($"{Name}: {what}");

    internal readonly record struct Section(uint Type, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize);
}

/// <summary>A .dynsym entry: its index, name, version index (hidden bit cleared) and where its .gnu.version entry sits (−1: none).</summary>
internal readonly record struct DynamicSymbol(int Index, string Name, ushort Version, int VersionOffset);

/// <summary>A vernaux record: the version <c>Name</c> needed from <c>Library</c>, its index and flags, and where the flags sit in the file.</summary>
internal readonly record struct NeededVersion(string Library, string Name, ushort Index, ushort Flags, int FlagsOffset);
