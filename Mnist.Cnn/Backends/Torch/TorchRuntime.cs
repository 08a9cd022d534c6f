using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mnist.Core.Numerics;
using TorchSharp;

namespace Mnist.Cnn.Backends.Torch;

/// <summary>Whether LibTorch runs in this process; when not, <see cref="Failure"/> says which native library failed and why, in one line.</summary>
internal readonly record struct TorchStatus(bool IsAvailable, string? Failure);

/// <summary>
/// Loads TorchSharp's native backend once per process, before any torch call, so that a platform problem
/// becomes one clear line instead of a TypeInitializationException deep inside a trainer.
/// </summary>
/// <remarks>
/// On a libstdc++ older than GCC 13 (Debian 12) the build has patched the output's libLibTorchSharp.so to
/// take <c>std::ios_base_library_init()</c> unversioned and built a shim that defines it
/// (build/TorchCompat). The shim must be in the global symbol scope before libLibTorchSharp.so loads, hence
/// dlopen with RTLD_NOW|RTLD_GLOBAL here: <see cref="NativeLibrary.Load(string)"/> opens libraries RTLD_LOCAL.
/// </remarks>
internal static partial class TorchRuntime
{
    /// <summary>The engine as reports name it.</summary>
    public const string EngineName = "TorchSharp 0.107 / LibTorch 2.10";

    /// <summary>Written next to the app by build/TorchCompat/TorchCompat.targets, only where it is needed.</summary>
    internal const string ShimFileName = "libios_base_library_init_shim.so";

    private const int RtldNow = 0x2, RtldGlobal = 0x100;

    private static readonly Lazy<string?> LoadFailure = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The platform's file name for TorchSharp's native library.</summary>
    internal static string NativeLibraryFile =>
        OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";

    /// <summary>Loads LibTorch on first use and bounds its intra-op threads by <see cref="ComputeSettings.Threads"/> (on every call, as that can change).</summary>
    public static TorchStatus EnsureLoaded()
    {
        string? failure = LoadFailure.Value;
        if (failure is not null) return new TorchStatus(false, failure);
        SetThreads(ComputeSettings.Threads);
        return new TorchStatus(true, null);
    }

    private static string? Load()
    {
        if (OperatingSystem.IsLinux())
        {
            // LibTorch's OpenMP workers spin between parallel regions by default; when the cores are shared (other
            // processes, or our own host work between the steps) that spinning starves the thread that has work:
            // cnn-small steps measured 3–10× slower on a loaded machine. libgomp reads the policy when it loads,
            // which is below, and a policy the user set is kept (no overwrite).
            SetEnv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
            string shim = Path.Combine(AppContext.BaseDirectory, ShimFileName);
            if (File.Exists(shim) && DlOpen(shim, RtldNow | RtldGlobal) == 0)
                return $"the compatibility library {shim} could not be loaded: {Marshal.PtrToStringUTF8(DlError())}";
        }
        try
        {
            // The same resolution as TorchSharp's own DllImports (deps.json, then the app folder), but the error is kept.
            NativeLibrary.Load("LibTorchSharp", typeof(torch).Assembly, null);
        }
        catch (DllNotFoundException e)
        {
            return $"the native library {NativeLibraryFile} could not be loaded: {Cause(e.Message)}";
        }
        try
        {
            InitializeCpu();
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            while (e.InnerException is not null) e = e.InnerException;
            return $"LibTorch did not initialise: {FirstLine(e.Message)}";
        }
        return null;
    }

    /// <summary>The loader's own reason (dlerror), from the runtime's multi-line DllNotFoundException message, with a hint for old libstdc++.</summary>
    internal static string Cause(string message)
    {
        string[] lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // Each attempted path is a line; a file that was found and failed (a bad version, a dependency that is not a library) says why.
        var attempts = lines.Skip(1).Where(l => l.Contains(": ", StringComparison.Ordinal)).ToList();
        string cause = attempts.FirstOrDefault(l => !l.Contains("cannot open shared object file", StringComparison.Ordinal))
            ?? attempts.FirstOrDefault()
            ?? FirstLine(message);
        if (cause.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal) || cause.Contains("ios_base_library_init", StringComparison.Ordinal))
            cause += " (this system's libstdc++ predates GCC 13 and this copy of the library was not adapted to it: rebuild with `dotnet build`, whose build/TorchCompat step does that)";
        return cause;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    // Kept out of line so that nothing touches the torch class (whose initialiser loads the backend) before Load has checked it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void InitializeCpu() => torch.InitializeDeviceType(DeviceType.CPU);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SetThreads(int threads)
    {
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
    }

    [LibraryImport("libdl.so.2", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string path, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libdl.so.2", EntryPoint = "dlerror")]
    private static partial nint DlError();
}
