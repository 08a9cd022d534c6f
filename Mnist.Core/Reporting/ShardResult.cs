namespace Mnist.Core.Reporting;

/// <summary>
/// One shard of a sweep (<c>mnist grid</c> or <c>mnist cv</c> with <c>--shard K/N</c>): the trials whose index
/// mod <see cref="Count"/> is <see cref="Index"/>, and what <c>mnist merge</c> needs to check that shards belong together.
/// </summary>
internal sealed record ShardResult
{
    /// <summary>K, from 0 to <see cref="Count"/> − 1.</summary>
    public required int Index { get; init; }
    /// <summary>N, the number of shards of the sweep.</summary>
    public required int Count { get; init; }
    /// <summary>Trials of the whole sweep (every shard's together).</summary>
    public required int TotalTrials { get; init; }
    /// <summary>A hash of the sweep's resolved configuration without its shard and output options: equal for every shard of one sweep.</summary>
    public required string Fingerprint { get; init; }
    /// <summary>This shard's trials, by index.</summary>
    public required IReadOnlyList<TrialResult> Trials { get; init; }
}

/// <summary>One fit-and-score of a sweep: a grid combination or a cv trainer on one fold.</summary>
/// <param name="Index">Position in the sweep's fixed trial order (fold-major).</param>
/// <param name="Label">What was fitted, e.g. "l2=1e-4 fold 2/3".</param>
/// <param name="Accuracy">Accuracy on the held-out images.</param>
/// <param name="FitSeconds">Time to fit.</param>
/// <param name="Hyperparameters">The fitted model's resolved hyperparameters.</param>
internal sealed record TrialResult(int Index, string Label, double Accuracy, double FitSeconds, IReadOnlyDictionary<string, object> Hyperparameters);
