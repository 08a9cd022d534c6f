using System.Reflection;
using System.Runtime.InteropServices;

namespace Mnist.Core.Reporting;

/// <summary>The machine and runtime a run happened on, for reports.</summary>
internal sealed record MachineInfo(
    string Os,
    string Architecture,
    int ProcessorCount,
    string? ProcessorName,
    string DotnetVersion,
    double? MemoryGiB)
{
    /// <summary>Describes the current machine; the processor name comes from /proc/cpuinfo when it exists.</summary>
    public static MachineInfo Current()
    {
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return new MachineInfo(
            RuntimeInformation.OSDescription,
            RuntimeInformation.OSArchitecture.ToString(),
            Environment.ProcessorCount,
            ReadProcessorName("/proc/cpuinfo"),
            RuntimeInformation.FrameworkDescription,
            memory > 0 ? Math.Round(memory / (double)(1L << 30), 1) : null);
    }

    /// <summary>The first "model name" in a cpuinfo-style file, or null when it is missing or unreadable.</summary>
    public static string? ReadProcessorName(string cpuinfoPath)
    {
        try
        {
            if (!File.Exists(cpuinfoPath)) return null;
            foreach (string line in File.ReadLines(cpuinfoPath))
            {
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                string key = line[..colon].Trim();
                if (key.Equals("model name", StringComparison.OrdinalIgnoreCase) || key.Equals("Hardware", StringComparison.OrdinalIgnoreCase))
                {
                    string value = line[(colon + 1)..].Trim();
                    if (value.Length > 0) return value;
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>The informational version of Mnist.Core (e.g. "0.1.0+abc123"), falling back to the assembly version.</summary>
    public static string SoftwareVersion()
    {
        var assembly = typeof(MachineInfo).Assembly;
        return assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "unknown";
    }
}
