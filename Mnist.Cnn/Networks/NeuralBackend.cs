using Mnist.Cnn.Backends.Torch;
using Mnist.Core.Training;

namespace Mnist.Cnn.Networks;

/// <summary>Which engine computes a network's forward and backward passes.</summary>
public enum NeuralBackend
{
    /// <summary>Our own layers (Mnist.Cnn/Layers on Mnist.Core's kernels).</summary>
    Own,
    /// <summary>LibTorch through TorchSharp (CPU).</summary>
    Torch,
}

internal static class NeuralBackends
{
    /// <summary>The engine as reports name it.</summary>
    public static string EngineName(this NeuralBackend backend) =>
        backend == NeuralBackend.Torch ? TorchRuntime.EngineName : TrainerRegistration.OwnEngine;

    /// <summary>The network of <paramref name="backend"/> over weights already in <paramref name="host"/> (compiled from <paramref name="spec"/>).</summary>
    public static INetwork Bind(this NeuralBackend backend, NetworkSpec spec, Sequential host) => backend switch
    {
        NeuralBackend.Own => host,
        NeuralBackend.Torch => new TorchNetwork(spec, host),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown backend."),
    };

    /// <summary>Throws <see cref="EngineUnavailableException"/>, naming <paramref name="user"/> (e.g. "trainer 'torch-cnn'"), when <paramref name="backend"/> cannot run in this process.</summary>
    public static void EnsureAvailable(this NeuralBackend backend, string user)
    {
        if (backend != NeuralBackend.Torch) return;
        var status = TorchRuntime.EnsureLoaded();
        if (!status.IsAvailable) throw new EngineUnavailableException($"{user} needs {TorchRuntime.EngineName}, which cannot run here: {status.Failure}");
    }
}
