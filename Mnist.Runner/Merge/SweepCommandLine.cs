using System.CommandLine;
using Mnist.Runner.Common;

namespace Mnist.Runner.Merge;

/// <summary>The options every sweep command (grid, cv) reads, beside its own.</summary>
internal sealed record SweepSettings(string? Data, int? TrainLimit, int Seed, int? Threads, string? Out, bool Force,
    string? Shard, int? ShardCount, Invocation Invocation)
{
    /// <summary>
    /// Checks the shared options and returns the shard this process runs (<c>--shard</c> or a scheduler's index),
    /// or null for the whole sweep or for a merge of <paramref name="merged"/> shards.
    /// </summary>
    public Shard? CheckAndResolveShard(RunnerEnvironment environment, ShardSet? merged)
    {
        Require.Limit(TrainLimit, "--train-limit");
        Require.Threads(Threads);
        var shard = merged is null ? Mnist.Runner.Merge.Shard.Resolve(environment, Shard, ShardCount) : null;
        SweepOutput.RequireOutFolder(shard, Out);
        return shard;
    }

    /// <summary>The report folder, or a shard's folder inside it.</summary>
    public string OutFolder(RunnerEnvironment environment, Shard? shard) => SweepOutput.Folder(environment, Out, shard, Force);
}

/// <summary>
/// A sweep command's options, declared once for its command line and for <c>mnist merge</c>, which parses them
/// again from a shard's recorded configuration: the command adds its own options to <see cref="Set"/>, then
/// <see cref="Complete"/> adds the shared ones (data, training limit, seed, threads, output, shard, config) and makes the command.
/// </summary>
/// <typeparam name="TOptions">The command's parsed options.</typeparam>
internal abstract class SweepCommandLine<TOptions>(RunnerEnvironment environment)
{
    private readonly Option<string?> _data = CommonOptions.Data(), _output = CommonOptions.OutFolder(), _shard = Shard.Option();
    private readonly Option<int?> _trainLimit = CommonOptions.TrainLimit(), _threads = CommonOptions.Threads(), _shardCount = Shard.CountOption();
    private readonly Option<int> _seed = CommonOptions.Seed();
    private readonly Option<bool> _force = CommonOptions.Force();

    protected RunnerEnvironment Environment { get; } = environment;

    protected CommandOptions Set { get; } = new();

    public Command Command { get; private set; } = null!;

    /// <summary>The command's options from <paramref name="parseResult"/>, with <paramref name="shared"/> read by <see cref="ReadShared"/>.</summary>
    protected abstract TOptions Read(ParseResult parseResult, SweepSettings shared);

    /// <summary>Runs the sweep: every trial, one shard's, or (with <paramref name="merge"/>) the merged shards' trials.</summary>
    protected abstract void Run(TOptions options, ShardSet? merged, MergeRequest? merge);

    protected void Complete(string name, string description)
    {
        Set.Add(_data);
        Set.Add(_trainLimit);
        Set.Add(_seed);
        Set.Add(_threads);
        Set.Add(_output);
        Set.Add(_force);
        Set.Add(_shard);
        Set.Add(_shardCount);
        Set.Add(CommonOptions.Config());
        Command = Set.AddTo(new Command(name, description));
        Command.SetAction(parseResult => CommandExecution.Run(Environment, () => Run(Read(parseResult, ReadShared(parseResult, null)), null, null)));
    }

    /// <summary><c>mnist merge</c>: the sweep's options as the shards recorded them, the shards' trials in place of fitting.</summary>
    public void Merge(ShardSet shards, MergeRequest request)
    {
        var parseResult = shards.First.Parse(Command, request.Tokens);
        Run(Read(parseResult, ReadShared(parseResult, request.CommandLine)), shards, request);
    }

    private SweepSettings ReadShared(ParseResult parseResult, string? commandLine)
    {
        var invocation = Invocation.From(parseResult, Set, Environment);
        return new SweepSettings(parseResult.GetValue(_data), parseResult.GetValue(_trainLimit), parseResult.GetValue(_seed),
            parseResult.GetValue(_threads), parseResult.GetValue(_output), parseResult.GetValue(_force),
            parseResult.GetValue(_shard), parseResult.GetValue(_shardCount),
            commandLine is null ? invocation : invocation with { CommandLine = commandLine });
    }
}
