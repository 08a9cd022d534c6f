using System.Diagnostics;
using Mnist.Build.TorchCompat;

// Run by TorchCompat.targets after the build copies TorchSharp's native library into an output folder:
//   TorchCompat --library OUT/runtimes/linux-x64/native/libLibTorchSharp.so --shim-source SHIM.cpp --shim-output OUT/SHIM.so
// On a libstdc++ older than GCC 13 it patches that copy (see SymbolVersionPatch) and compiles the shim that
// defines the missing symbol; TorchRuntime dlopens the shim (RTLD_GLOBAL) before the first torch call.
// Quiet when there is nothing to do, so incremental builds stay silent.

const string Symbol = "_ZSt21ios_base_library_initv"; // std::ios_base_library_init(), GCC 13
const string Version = "GLIBCXX_3.4.32";

try
{
    var options = ParseOptions(args);
    if (!OperatingSystem.IsLinux()) return 0;
    string? libstdcxx = LibStdCxx.Locate();
    if (libstdcxx is null || LibStdCxx.Defines(libstdcxx, Version)) return 0; // the package works as shipped

    string library = options["--library"];
    var image = new ElfImage(File.ReadAllBytes(library), library);
    var outcome = SymbolVersionPatch.Apply(image, Symbol, Version);
    if (outcome == PatchOutcome.Patched)
    {
        WriteKeepingTimestamp(library, image.Bytes);
        Console.WriteLine($"TorchCompat: {libstdcxx} lacks {Version}: made {Symbol} unversioned and {Version} weak in {library}");
    }
    if (outcome == PatchOutcome.NotNeeded) return 0;
    return BuildShim(options["--shim-source"], options["--shim-output"]);
}
catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"TorchCompat: error: {e.Message}");
    return 1;
}

static Dictionary<string, string> ParseOptions(string[] args)
{
    var options = new Dictionary<string, string>();
    for (int i = 0; i + 1 < args.Length; i += 2) options[args[i]] = args[i + 1];
    foreach (string name in new[] { "--library", "--shim-source", "--shim-output" })
        if (!options.ContainsKey(name)) throw new ArgumentException($"missing {name} (usage: TorchCompat --library SO --shim-source CPP --shim-output SO)");
    return options;
}

// Temp file then rename: a fresh inode, so a hard-linked copy (or the NuGet cache behind it) is never
// written through. The original's timestamp is kept so that the SDK's incremental copy (same size and time)
// leaves the patched file alone on the next build; the patch itself is idempotent if it does not.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
static void WriteKeepingTimestamp(string path, byte[] bytes)
{
    var timestamp = File.GetLastWriteTimeUtc(path);
    string temporary = path + ".tmp";
    File.WriteAllBytes(temporary, bytes);
    File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
    File.SetLastWriteTimeUtc(temporary, timestamp);
    File.Move(temporary, path, overwrite: true);
}

static int BuildShim(string source, string output)
{
    if (File.Exists(output) && File.GetLastWriteTimeUtc(output) >= File.GetLastWriteTimeUtc(source)) return 0;
    string? compiler = FindCompiler();
    if (compiler is null)
    {
        // Measured: the patched library loads without it (no relocation binds the symbol, and libc10/libtorch_cpu
        // construct std::ios_base::Init themselves); the shim guarantees the stream initialisation the symbol stands for.
        Console.WriteLine($"TorchCompat: no C++ compiler (g++, c++ or $CXX) found, so {Path.GetFileName(output)} was not built; TorchSharp still loads, relying on LibTorch to initialise the C++ standard streams");
        return 0;
    }
    string temporary = output + ".tmp";
    var start = new ProcessStartInfo(compiler) { RedirectStandardError = true, RedirectStandardOutput = true };
    foreach (string argument in new[] { "-shared", "-fPIC", "-O2", "-o", temporary, source }) start.ArgumentList.Add(argument);
    using var process = Process.Start(start)!;
    string errors = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        File.Delete(temporary);
        Console.WriteLine($"TorchCompat: {compiler} could not build {Path.GetFileName(output)} (exit {process.ExitCode}): {errors.Trim()}; TorchSharp still loads, relying on LibTorch to initialise the C++ standard streams");
        return 0;
    }
    File.Move(temporary, output, overwrite: true);
    Console.WriteLine($"TorchCompat: built {output} with {compiler}");
    return 0;
}

static string? FindCompiler()
{
    var names = new List<string>();
    if (Environment.GetEnvironmentVariable("CXX") is { Length: > 0 } cxx) names.Add(cxx);
    names.AddRange(["g++", "c++"]);
    string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
    foreach (string name in names)
    {
        if (Path.IsPathRooted(name)) { if (File.Exists(name)) return name; continue; }
        foreach (string directory in path)
            if (File.Exists(Path.Combine(directory, name))) return Path.Combine(directory, name);
    }
    return null;
}
