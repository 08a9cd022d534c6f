using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Mnist.Tests.Reliability;

/// <summary>The built runner (mnist.dll beside the test assembly) as a real child process, with its output collected line by line.</summary>
internal sealed partial class MnistProcess : IDisposable
{
    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Lock _lock = new();

    private MnistProcess(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "mnist.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} was not built beside the tests");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.ArgumentList.Add(dll);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_lock) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_lock) _error.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static MnistProcess Start(string workingDirectory, params string[] args) => new(workingDirectory, args);

    /// <summary>Runs to the end (at most <paramref name="timeoutSeconds"/>).</summary>
    public static (int ExitCode, string Output, string Error) Run(string workingDirectory, int timeoutSeconds, params string[] args) =>
        Run(null, workingDirectory, timeoutSeconds, args);

    /// <summary>As <see cref="Run(string, int, string[])"/>, with extra environment variables.</summary>
    public static (int ExitCode, string Output, string Error) Run(IReadOnlyDictionary<string, string>? environment, string workingDirectory, int timeoutSeconds, params string[] args)
    {
        using var process = new MnistProcess(workingDirectory, args, environment);
        int exitCode = process.WaitForExit(timeoutSeconds);
        return (exitCode, process.Output, process.Error);
    }

    public int Id => _process.Id;

    public string Output { get { lock (_lock) return _output.ToString(); } }

    public string Error { get { lock (_lock) return _error.ToString(); } }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails if the process ends or the time runs out first.</summary>
    public void WaitForOutput(string text, int timeoutSeconds)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited) Assert.Fail($"mnist exited ({_process.ExitCode}) before printing '{text}':\n{Output}\n{Error}");
            if (clock.Elapsed.TotalSeconds > timeoutSeconds) Assert.Fail($"no '{text}' within {timeoutSeconds} s:\n{Output}\n{Error}");
            Thread.Sleep(20);
        }
    }

    /// <summary>Sends a real POSIX signal to the process.</summary>
    public void Signal(int signal)
    {
        if (Ignores(signal))
            Assert.Ignore($"signal {signal} is ignored in this process tree (a non-interactive shell started it in the background with &), so the child ignores it too");
        Assert.That(Kill(_process.Id, signal), Is.Zero, $"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Whether this process ignores <paramref name="signal"/> (SigIgn in /proc/self/status): children inherit an ignored disposition.</summary>
    private static bool Ignores(int signal)
    {
        if (!OperatingSystem.IsLinux()) return false;
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (signal - 1))) != 0;
    }

    /// <summary>The exit code; fails (and kills the process) after <paramref name="timeoutSeconds"/>.</summary>
    public int WaitForExit(int timeoutSeconds)
    {
        if (!_process.WaitForExit(timeoutSeconds * 1000))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"mnist did not finish within {timeoutSeconds} s:\n{Output}\n{Error}");
        }
        _process.WaitForExit(); // drain the output
        return _process.ExitCode;
    }

    /// <summary>The "Threads:" line of /proc/PID/status (Linux), or null.</summary>
    public int? ThreadCount()
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
                if (line.StartsWith("Threads:", StringComparison.Ordinal)) return int.Parse(line[8..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
