using System.Text;

namespace Mnist.Core.IO;

/// <summary>
/// Writes a file through a temporary sibling that is renamed into place, so a reader (or a crash)
/// never sees a half-written output and an existing file is replaced whole or not at all. A failure of
/// the file system (a full disk, no permission, a read-only mount) is an <see cref="OutputWriteException"/>
/// naming the file and the cause, and leaves no temporary file behind.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Tests wrap the temporary file's stream here to inject write failures (a /dev/full of their own).</summary>
    internal static Func<Stream, Stream>? WrapStreamForTests;

    public static void Write(string path, Action<Stream> write)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var stream = WrapStreamForTests?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (e is (IOException or UnauthorizedAccessException) and not OutputWriteException) throw new OutputWriteException(fullPath, e);
            throw;
        }
    }

    public static void WriteAllText(string path, string contents) =>
        Write(path, stream =>
        {
            var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(contents);
            stream.Write(bytes);
        });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents)
    {
        byte[] copy = contents.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>
    /// Checks, before a long run, that <paramref name="path"/> could be written: creates and removes a probe file in
    /// its nearest existing folder (creating nothing else). A read-only file system or a missing permission is an
    /// <see cref="OutputWriteException"/> naming <paramref name="path"/>; a disk that fills up later is still caught by <see cref="Write"/>.
    /// </summary>
    public static void CheckWritable(string path)
    {
        string fullPath = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(fullPath);
        while (folder is not null && !Directory.Exists(folder)) folder = Path.GetDirectoryName(folder);
        if (folder is null) return;
        try
        {
            using var probe = new FileStream(Path.Combine(folder, $".mnist-probe.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"),
                FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputWriteException(fullPath, e);
        }
    }

    /// <summary>Creates <paramref name="folder"/> (and its parents); a file-system failure is an <see cref="OutputWriteException"/>.</summary>
    public static void CreateFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputWriteException(Path.GetFullPath(folder), e);
        }
    }
}

/// <summary>
/// Writing an output failed for a reason of the environment, not of the program: a full disk, a missing
/// permission, a read-only file system. <see cref="Exception.Message"/> is one line naming the file and the cause.
/// </summary>
public sealed class OutputWriteException(string path, Exception inner) : IOException($"cannot write {path}: {Cause(inner)}", inner)
{
    /// <summary>The output that could not be written (not its temporary sibling).</summary>
    public string Path { get; } = path;

    /// <summary>
    /// True when the path itself cannot be a file (a parent that is a regular file, ENOTDIR; a folder
    /// that does not exist and could not be made): bad input rather than a refusing file system.
    /// </summary>
    public bool IsBadPath => InnerException is DirectoryNotFoundException or IOException { HResult: 20 } || HasFileAsFolder(Path);

    private static bool HasFileAsFolder(string path)
    {
        for (string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)); !string.IsNullOrEmpty(folder); folder = System.IO.Path.GetDirectoryName(folder))
            if (File.Exists(folder)) return true;
        return false;
    }

    /// <summary>The errno of the failure when the runtime reports one (Unix: HResult of the IOException).</summary>
    private static string Cause(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        IOException { HResult: 28 } => "no space left on device",
        IOException { HResult: 30 } => "read-only file system",
        IOException { HResult: 122 } => "disk quota exceeded",
        IOException { HResult: 27 } => "file too large",
        IOException { HResult: 5 } => "input/output error",
        _ => e.Message.Replace('\r', ' ').Replace('\n', ' ').Trim(),
    };
}
