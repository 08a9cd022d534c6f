using System.IO.Enumeration;
using Mnist.Runner;
using Mnist.Runner.Merge;
using Mnist.Tests.Runner;
using YamlDotNet.RepresentationModel;

namespace Mnist.Tests.Deploy;

/// <summary>
/// deploy/kubernetes: there is no cluster here, so the manifests are parsed (YamlDotNet) and checked against
/// the shard contract: an Indexed Job whose completions and parallelism are the --shard-count its mnist command
/// passes, each index a shard, and a merge Job reading exactly those shard folders from the same volume.
/// </summary>
[TestFixture]
public sealed class KubernetesManifestTests
{
    private static string Manifest(string name) => Path.Combine(RunnerHarness.RepositoryRoot(), "deploy", "kubernetes", name);

    private static List<YamlMappingNode> Documents(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path)) stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (string key in path)
        {
            Assert.That(node, Is.InstanceOf<YamlMappingNode>(), $"'{key}' under a non-mapping");
            var mapping = (YamlMappingNode)node;
            Assert.That(mapping.Children.ContainsKey(key), Is.True, $"no '{key}' in the manifest");
            node = mapping.Children[key];
        }
        return node;
    }

    private static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)At(node, path)).Value!;

    private static YamlMappingNode OnlyContainer(YamlMappingNode job)
    {
        var containers = (YamlSequenceNode)At(job, "spec", "template", "spec", "containers");
        Assert.That(containers.Children, Has.Count.EqualTo(1));
        return (YamlMappingNode)containers.Children[0];
    }

    private static string[] Command(YamlMappingNode container) =>
        ((YamlSequenceNode)At(container, "command")).Children.Select(c => ((YamlScalarNode)c).Value!).ToArray();

    private static string ValueOf(string[] args, string option)
    {
        int at = Array.IndexOf(args, option);
        Assert.That(at, Is.GreaterThanOrEqualTo(0).And.LessThan(args.Length - 1), $"{option} missing from '{string.Join(' ', args)}'");
        return args[at + 1];
    }

    /// <summary>The volume claim mounted at the folder holding <paramref name="path"/>.</summary>
    private static string ClaimHolding(YamlMappingNode job, YamlMappingNode container, string path)
    {
        var mount = ((YamlSequenceNode)At(container, "volumeMounts")).Children.Cast<YamlMappingNode>()
            .Single(m => path.StartsWith(Text(m, "mountPath").TrimEnd('/') + "/", StringComparison.Ordinal));
        var volume = ((YamlSequenceNode)At(job, "spec", "template", "spec", "volumes")).Children.Cast<YamlMappingNode>()
            .Single(v => Text(v, "name") == Text(mount, "name"));
        return Text(volume, "persistentVolumeClaim", "claimName");
    }

    private static RunnerEnvironment Environment(IReadOnlyDictionary<string, string> variables) => new()
    {
        Catalog = Catalogs.Default(),
        Console = RunnerEnvironment.PlainConsole(TextWriter.Null),
        Out = TextWriter.Null,
        Error = TextWriter.Null,
        Variable = name => variables.GetValueOrDefault(name),
    };

    private static void AssertParses(string[] args)
    {
        var parsed = Cli.CreateRootCommand(Environment(new Dictionary<string, string>())).Parse(args);
        Assert.That(parsed.Errors.Select(e => e.Message), Is.Empty, $"mnist {string.Join(' ', args)}");
    }

    [Test]
    public void TheIndexedJobRunsOneShardPerCompletionIndexAndTheMergeJobJoinsThemAll()
    {
        var sweepDocuments = Documents(Manifest("grid-sweep.yaml"));
        var claim = sweepDocuments.Single(d => Text(d, "kind") == "PersistentVolumeClaim");
        var job = sweepDocuments.Single(d => Text(d, "kind") == "Job");
        var container = OnlyContainer(job);
        string[] command = Command(container);

        Assert.That(command[0], Is.EqualTo("mnist"));
        string[] args = command[1..];
        Assert.That(args[0], Is.EqualTo("grid"));
        Assert.That(args, Does.Not.Contain("--shard"), "the index comes from JOB_COMPLETION_INDEX");
        int shards = int.Parse(ValueOf(args, "--shard-count"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That(Text(job, "spec", "completionMode"), Is.EqualTo("Indexed"));
            Assert.That(int.Parse(Text(job, "spec", "completions"), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(shards));
            Assert.That(int.Parse(Text(job, "spec", "parallelism"), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(shards));
            Assert.That(Text(job, "spec", "template", "spec", "restartPolicy"), Is.EqualTo("Never"));
            Assert.That(Catalogs.Default().TryFind(ValueOf(args, "--trainer")), Is.Not.Null);
        });
        AssertParses(args);

        // Every completion index is one shard of the same count: the contract the runner implements.
        string sweepOut = ValueOf(args, "--out");
        var folders = new List<string>();
        for (int index = 0; index < shards; index++)
        {
            var shard = Shard.Resolve(Environment(new Dictionary<string, string> { [Shard.KubernetesIndex] = index.ToString(System.Globalization.CultureInfo.InvariantCulture) }), null, shards);
            Assert.That(shard, Is.EqualTo(new Shard(index, shards)));
            folders.Add(shard!.FolderName);
        }
        string sweepClaim = ClaimHolding(job, container, sweepOut);
        Assert.That(sweepClaim, Is.EqualTo(Text(claim, "metadata", "name")));

        var merge = Documents(Manifest("grid-merge.yaml")).Single(d => Text(d, "kind") == "Job");
        var mergeContainer = OnlyContainer(merge);
        string[] shell = Command(mergeContainer);
        Assert.That(shell[..2], Is.EqualTo(new[] { "sh", "-c" }));
        string[] mergeArgs = shell[2].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(mergeArgs[..2], Is.EqualTo(new[] { "mnist", "merge" }));
        string pattern = mergeArgs[2];
        Assert.That(Path.GetDirectoryName(pattern), Is.EqualTo(sweepOut), "the merge reads the sweep's folder");
        string glob = Path.GetFileName(pattern);
        Assert.That(folders.Where(f => FileSystemName.MatchesSimpleExpression(glob, f)), Is.EqualTo(folders), $"{glob} matches every shard folder");
        Assert.That(FileSystemName.MatchesSimpleExpression(glob, new Shard(0, shards * 10).FolderName), Is.False, "and no shard of another split");
        Assert.That(ClaimHolding(merge, mergeContainer, ValueOf(mergeArgs, "--out")), Is.EqualTo(sweepClaim), "the merge writes to the same volume");
        AssertParses(["merge", .. folders.Select(f => Path.Combine(sweepOut, f)), .. mergeArgs[3..]]);
    }
}
