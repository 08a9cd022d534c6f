namespace Mnist.Runner.Common;

/// <summary>
/// Peak resident memory (Linux's VmHWM, what <c>/usr/bin/time -v</c> reports as maximum resident set size) of
/// this process, per trainer: <see cref="Restart"/> before a fit resets the kernel's counter (writing 5 to
/// /proc/self/clear_refs), <see cref="SinceRestart"/> after its evaluation reads it. <see cref="OfRun"/> is the
/// largest value seen since the process started. Null where the kernel offers neither (not Linux).
/// </summary>
internal static class PeakMemory
{
    private static long _ofRun;

    /// <summary>Starts a new measurement; the peak so far still counts towards <see cref="OfRun"/>.</summary>
    public static void Restart()
    {
        if (SinceRestart() is not long peak) return;
        _ofRun = Math.Max(_ofRun, peak);
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Peak resident bytes since the last <see cref="Restart"/> (or the process start).</summary>
    public static long? SinceRestart()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim()) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }

    /// <summary>Peak resident bytes of the whole process so far.</summary>
    public static long? OfRun() => SinceRestart() is long peak ? Math.Max(_ofRun, peak) : null;
}
