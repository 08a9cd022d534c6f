using Mnist.Build.TorchCompat;

namespace Mnist.Tests.Build;

/// <summary>
/// The build step that makes TorchSharp 0.107's native library load on a libstdc++ older than GCC 13
/// (build/TorchCompat), on the real library: the package's original and the copy in this test output folder.
/// </summary>
[Platform("Linux")]
public class TorchCompatTests
{
    private const string Symbol = "_ZSt21ios_base_library_initv";
    private const string Version = "GLIBCXX_3.4.32";

    private static string OutputCopy => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    /// <summary>The package's own file in the NuGet cache (never written by the build).</summary>
    private static string PackageOriginal()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
            ? packages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assume.That(File.Exists(path), $"the TorchSharp package is not at {path}");
        return path;
    }

    [Test]
    public void TheOutputCopyIsPatchedExactlyWhenTheSystemLibStdCxxLacksTheVersion()
    {
        string libstdcxx = LibStdCxx.Locate() ?? throw new AssertionException("no libstdc++ found");
        bool lacks = !LibStdCxx.Defines(libstdcxx, Version);
        var copy = new ElfImage(File.ReadAllBytes(OutputCopy), OutputCopy);
        var need = copy.Needs.Single(n => n.Name == Version);
        var symbol = copy.Symbols.Single(s => s.Name == Symbol);

        Assert.That(symbol.Version, Is.EqualTo(lacks ? ElfImage.GlobalVersionIndex : need.Index));
        Assert.That((need.Flags & ElfImage.WeakVersionFlag) != 0, Is.EqualTo(lacks));
        Assert.That(File.Exists(Path.Combine(AppContext.BaseDirectory, "libios_base_library_init_shim.so")), Is.EqualTo(lacks));
        Assert.That(File.ReadAllBytes(PackageOriginal()), Has.Length.EqualTo(copy.Bytes.Length));
    }

    [Test]
    public void PatchingTheOriginalChangesOnlyThatSymbolsVersionAndTheNeedsFlag()
    {
        byte[] original = File.ReadAllBytes(PackageOriginal());
        var before = new ElfImage((byte[])original.Clone(), "original");
        var image = new ElfImage((byte[])original.Clone(), "patched");

        Assert.That(SymbolVersionPatch.Apply(image, Symbol, Version), Is.EqualTo(PatchOutcome.Patched));

        int[] changed = Enumerable.Range(0, original.Length).Where(i => original[i] != image.Bytes[i]).ToArray();
        var symbol = before.Symbols.Single(s => s.Name == Symbol);
        var need = before.Needs.Single(n => n.Name == Version);
        Assert.That(changed, Is.SubsetOf(new[] { symbol.VersionOffset, symbol.VersionOffset + 1, need.FlagsOffset, need.FlagsOffset + 1 }));
        Assert.That(changed, Has.Length.GreaterThanOrEqualTo(2));

        var after = new ElfImage(image.Bytes, "reparsed");
        Assert.That(after.Symbols.Single(s => s.Name == Symbol).Version, Is.EqualTo(ElfImage.GlobalVersionIndex));
        Assert.That(after.Needs.Single(n => n.Name == Version).Flags, Is.EqualTo(need.Flags | ElfImage.WeakVersionFlag));
        Assert.That(after.Symbols.Where(s => s.Name != Symbol), Is.EqualTo(before.Symbols.Where(s => s.Name != Symbol)));
        Assert.That(after.Needs.Where(n => n.Name != Version), Is.EqualTo(before.Needs.Where(n => n.Name != Version)));
    }

    [Test]
    public void PatchingTwiceIsANoOp()
    {
        var image = new ElfImage(File.ReadAllBytes(PackageOriginal()), "library");
        SymbolVersionPatch.Apply(image, Symbol, Version);
        byte[] once = (byte[])image.Bytes.Clone();

        Assert.That(SymbolVersionPatch.Apply(image, Symbol, Version), Is.EqualTo(PatchOutcome.AlreadyPatched));
        Assert.That(image.Bytes, Is.EqualTo(once));
    }

    [Test]
    public void AVersionTheLibraryDoesNotNeedLeavesItUntouched()
    {
        byte[] original = File.ReadAllBytes(PackageOriginal());
        var image = new ElfImage((byte[])original.Clone(), "library");

        Assert.That(SymbolVersionPatch.Apply(image, Symbol, "GLIBCXX_3.4.99"), Is.EqualTo(PatchOutcome.NotNeeded));
        Assert.That(image.Bytes, Is.EqualTo(original));
    }

    [Test]
    public void RefusesWhenOtherSymbolsNeedTheSameVersion()
    {
        // GLIBCXX_3.4.30 is needed by std::condition_variable::wait: making it weak would leave that unbound.
        var image = new ElfImage(File.ReadAllBytes(PackageOriginal()), "library");

        var error = Assert.Throws<InvalidDataException>(() => SymbolVersionPatch.Apply(image, Symbol, "GLIBCXX_3.4.30"));
        Assert.That(error!.Message, Does.Contain("other symbol(s) need GLIBCXX_3.4.30"));
    }

    [TestCase(0, "not an ELF file")]
    [TestCase(4096, "lies outside the file")]
    public void AMalformedFileIsNamedInOneMessage(int keep, string expected)
    {
        byte[] bytes = keep == 0 ? "not a library at all, just some text to parse"u8.ToArray().Concat(new byte[64]).ToArray()
                                 : File.ReadAllBytes(PackageOriginal())[..keep];

        var error = Assert.Throws<InvalidDataException>(() => _ = new ElfImage(bytes, "broken.so"));
        Assert.That(error!.Message, Does.StartWith("broken.so: ").And.Contain(expected));
    }

    [Test]
    public void ReadsTheVersionsTheSystemLibStdCxxDefines()
    {
        string libstdcxx = LibStdCxx.Locate() ?? throw new AssertionException("no libstdc++ found");

        Assert.That(LibStdCxx.Defines(libstdcxx, "GLIBCXX_3.4"), Is.True);
        Assert.That(LibStdCxx.Defines(libstdcxx, "CXXABI_1.3"), Is.True);
        Assert.That(LibStdCxx.Defines(libstdcxx, "GLIBCXX_9.9"), Is.False);
    }
}
