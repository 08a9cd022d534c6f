namespace Mnist.Core.Training;

/// <summary>
/// The engine a trainer or model computes on cannot run in this process (a native library that does not
/// load, say). The environment, not the data and not a bug: the runner reports it as one error line, exit 2.
/// </summary>
public sealed class EngineUnavailableException(string message) : Exception(message);
