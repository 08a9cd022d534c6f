using System.Diagnostics;

namespace Mnist.Runner.Common;

/// <summary>
/// Peak resident memory of this process. <see cref="OfRun"/> is the operating system's own peak (Linux's VmHWM,
/// what <c>/usr/bin/time -v</c> reports as maximum resident set size). Per trainer, from <see cref="Restart"/>
/// before its fit to <see cref="SinceRestart"/> after its evaluation, the resident set is sampled every 50 ms
/// (the kernel's counter cannot be reset without also resetting what <c>time</c> reports); the buffers that make
/// a trainer's peak live far longer than that.
/// </summary>
internal static class PeakMemory
{
    private static readonly Lock Gate = new();
    private static Timer? _sampler;
    private static long _sinceRestart;

    /// <summary>Starts a new per-trainer measurement (and the sampler, on first use).</summary>
    public static void Restart()
    {
        lock (Gate)
        {
            _sinceRestart = Resident();
            _sampler ??= new Timer(_ => Sample(), null, 50, 50);
        }
    }

    /// <summary>The largest resident set sampled since the last <see cref="Restart"/>, in bytes.</summary>
    public static long SinceRestart()
    {
        Sample();
        lock (Gate) return _sinceRestart;
    }

    /// <summary>The process's peak resident set so far, in bytes, as the operating system counts it.</summary>
    public static long OfRun()
    {
        using var process = Process.GetCurrentProcess();
        return Math.Max(process.PeakWorkingSet64, SinceRestart());
    }

    private static void Sample()
    {
        long resident = Resident();
        lock (Gate) _sinceRestart = Math.Max(_sinceRestart, resident);
    }

    // Process.WorkingSet64 is the resident set (Linux: /proc/self/stat); Environment.WorkingSet is not, on Linux.
    private static long Resident()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
