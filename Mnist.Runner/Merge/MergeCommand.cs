using System.CommandLine;
using Spectre.Console;
using Mnist.Runner.Common;
using Mnist.Runner.CrossValidation;
using Mnist.Runner.Grid;

namespace Mnist.Runner.Merge;

/// <summary>
/// <c>mnist merge SHARD... --out DIR</c>: joins the shard folders of a sharded grid or cv into the report.md
/// and results.json an unsharded run writes (same ranking and figures, timings aside); for a grid it then
/// refits the best combination and tests it. Shards of different sweeps, repeated or missing shards are refused.
/// </summary>
public static class MergeCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var output = set.Add(CommonOptions.OutFolder());
        var force = set.Add(CommonOptions.Force());
        var noRefit = set.Add(new Option<bool>("--no-refit") { Description = "For a grid: rank the combinations only, without refitting and testing the best" });
        set.Add(CommonOptions.Config());
        var shards = new Argument<string[]>("SHARD") { Description = "The shard folders (OUT/shard-K-of-N) of one sweep, every one of them", Arity = ArgumentArity.OneOrMore };

        var command = set.AddTo(new Command("merge", "Join the shards of a sharded grid or cv (--shard K/N) into one report"));
        command.Add(shards);
        command.SetAction(parseResult => CommandExecution.Run(environment, () =>
        {
            var folders = (parseResult.GetValue(shards) ?? []).Select(f => Path.GetFullPath(f, environment.CurrentDirectory)).ToList();
            var sweep = ShardSet.Read(folders);
            var request = new MergeRequest(OutputLocation.ReportFolder(environment, parseResult.GetValue(output)), parseResult.GetValue(force),
                !parseResult.GetValue(noRefit), CommandOptions.CommandLineText(parseResult));
            environment.Console.WriteLine($"Merging {sweep.Shards.Count} shards of a {sweep.Kind} sweep ({sweep.TotalTrials} trials) from {Path.GetDirectoryName(sweep.First.Folder)}");
            if (sweep.Kind == "grid") new GridCommand(environment).Merge(sweep, request);
            else new CvCommand(environment).Merge(sweep, request);
        }));
        return command;
    }
}
