using Mnist.Cnn.Backends.Torch;

namespace Mnist.Tests.Cnn.Backends.Torch;

public class TorchRuntimeTests
{
    [Test]
    public void LoadsOnThisMachine()
    {
        var status = TorchRuntime.EnsureLoaded();

        Assert.That(status.Failure, Is.Null);
        Assert.That(status.IsAvailable, Is.True);
    }

    /// <summary>The runtime's DllNotFoundException lists every path it tried; the reason kept is the loader's for the file that exists.</summary>
    [Test]
    public void AFailedLoadIsOneLineWithTheLoadersReason()
    {
        string message = string.Join("\n",
            "Unable to load shared library 'LibTorchSharp' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: ",
            "/app/runtimes/linux-x64/native/libLibTorchSharp.so: version `GLIBCXX_3.4.32' not found (required by /app/runtimes/linux-x64/native/libLibTorchSharp.so)",
            "/app/libLibTorchSharp.so: cannot open shared object file: No such file or directory",
            "libLibTorchSharp.so: cannot open shared object file: No such file or directory",
            "");

        string cause = TorchRuntime.Cause(message);

        Assert.That(cause, Does.Not.Contain("\n"));
        Assert.That(cause, Does.StartWith("/app/runtimes/linux-x64/native/libLibTorchSharp.so: version `GLIBCXX_3.4.32' not found"));
        Assert.That(cause, Does.Contain("dotnet build"), "says how to get the compatibility step");
    }

    [Test]
    public void AMissingLibraryKeepsTheFirstAttempt()
    {
        string message = "Unable to load shared library 'LibTorchSharp' or one of its dependencies.\n"
            + "/app/libLibTorchSharp.so: cannot open shared object file: No such file or directory\n"
            + "libLibTorchSharp.so: cannot open shared object file: No such file or directory\n";

        Assert.That(TorchRuntime.Cause(message), Is.EqualTo("/app/libLibTorchSharp.so: cannot open shared object file: No such file or directory"));
    }
}
