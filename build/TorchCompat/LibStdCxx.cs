namespace Mnist.Build.TorchCompat;

/// <summary>The system's GNU C++ runtime (libstdc++.so.6) and the symbol versions it defines.</summary>
internal static class LibStdCxx
{
    private static readonly string[] StandardDirectories =
        ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];

    /// <summary>
    /// The libstdc++ this process runs on (the .NET runtime maps it, so it is the one a .NET app will get),
    /// else the first libstdc++.so.6 in the usual directories; null when there is none.
    /// </summary>
    public static string? Locate()
    {
        if (File.Exists("/proc/self/maps"))
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int path = line.IndexOf('/');
                if (path >= 0 && Path.GetFileName(line[path..]).StartsWith("libstdc++.so.", StringComparison.Ordinal)) return line[path..];
            }
        return StandardDirectories.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
    }

    /// <summary>Whether the library at <paramref name="path"/> defines symbol version <paramref name="version"/> (e.g. GLIBCXX_3.4.32).</summary>
    public static bool Defines(string path, string version) =>
        new ElfImage(File.ReadAllBytes(path), path).Definitions.Contains(version);
}
