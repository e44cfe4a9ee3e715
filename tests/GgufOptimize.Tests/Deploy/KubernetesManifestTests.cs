using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace GgufOptimize.Tests.Deploy;

/// <summary>
/// deploy/kubernetes is parsed and its structure checked (no cluster runs here): the Indexed Job runs one shard per
/// completion index, the merge Job names exactly the pieces the shards write, and every container uses the image the
/// Dockerfile's build line tags.
/// </summary>
public class KubernetesManifestTests
{
    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(RepoFiles.Path("deploy", "kubernetes", file))) stream.Load(reader);
        return (YamlMappingNode)Assert.Single(stream.Documents).RootNode;
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (var key in path) node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        return node;
    }

    private static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)At(node, path)).Value!;

    private static YamlMappingNode Container(YamlNode job) => (YamlMappingNode)Assert.Single((YamlSequenceNode)At(job, "spec", "template", "spec", "containers"));

    private static List<string> Args(YamlNode job) => ((YamlSequenceNode)At(Container(job), "args")).Select(n => ((YamlScalarNode)n).Value!).ToList();

    private static string ValueOf(List<string> args, string option) => args[args.IndexOf(option) + 1];

    [Fact]
    public void The_indexed_job_runs_one_shard_per_completion_index_and_the_merge_takes_every_piece()
    {
        var shards = Load("shards-job.yaml");
        Assert.Equal("Job", Text(shards, "kind"));
        Assert.Equal("Indexed", Text(shards, "spec", "completionMode"));
        int n = int.Parse(Text(shards, "spec", "completions"));
        Assert.True(n >= 2);
        Assert.Equal("Never", Text(shards, "spec", "template", "spec", "restartPolicy"));

        // The index reaches the arguments through an environment variable read from the Job's completion-index annotation.
        var env = ((YamlSequenceNode)At(Container(shards), "env")).Cast<YamlMappingNode>()
            .Single(e => Text(e, "valueFrom", "fieldRef", "fieldPath") == "metadata.annotations['batch.kubernetes.io/job-completion-index']");
        string index = $"$({Text(env, "name")})";
        var args = Args(shards);
        Assert.Contains(args[0], new[] { "logits", "kld", "imatrix" });
        Assert.Equal($"{index}/{n}", ValueOf(args, "--shard"));
        string piece = ValueOf(args, "--output");
        var match = Regex.Match(piece, $@"^(?<base>.+)\.shard-{Regex.Escape(index)}-of-{n}$");
        Assert.True(match.Success, $"--output '{piece}' is not BASE.shard-{index}-of-{n}");
        string output = match.Groups["base"].Value;

        var merge = Load("merge-job.yaml");
        Assert.Equal("Job", Text(merge, "kind"));
        var mergeArgs = Args(merge);
        Assert.Equal("merge", mergeArgs[0]);
        Assert.Equal(output, ValueOf(mergeArgs, "--output"));
        var pieces = new List<string>();
        for (int i = 1; i < mergeArgs.Count; i++)
        {
            if (mergeArgs[i].StartsWith("--")) i++; // an option and its value
            else pieces.Add(mergeArgs[i]);
        }
        Assert.Equal(Enumerable.Range(0, n).Select(k => piece.Replace(index, k.ToString())).ToList(), pieces);

        // Both see the same volume at the same place, and every path they use is on it.
        foreach (var job in new[] { shards, merge })
        {
            var mount = (YamlMappingNode)Assert.Single((YamlSequenceNode)At(Container(job), "volumeMounts"));
            Assert.Equal("/data", Text(mount, "mountPath"));
            var volume = (YamlMappingNode)Assert.Single((YamlSequenceNode)At(job, "spec", "template", "spec", "volumes"));
            Assert.Equal(Text(mount, "name"), Text(volume, "name"));
            Assert.Equal(Text(Load("storage.yaml"), "metadata", "name"), Text(volume, "persistentVolumeClaim", "claimName"));
        }
        foreach (var path in args.Concat(mergeArgs).Where(a => a.StartsWith('/')))
            Assert.StartsWith("/data/", path);
    }

    [Fact]
    public void Every_container_uses_the_image_the_dockerfile_builds_and_its_entrypoint()
    {
        string dockerfile = File.ReadAllText(RepoFiles.Path("deploy", "kubernetes", "Dockerfile"));
        var tag = Regex.Match(dockerfile, @"docker build -f deploy/kubernetes/Dockerfile -t (?<tag>\S+) \.");
        Assert.True(tag.Success, "the Dockerfile does not say how it is built and tagged");
        Assert.Contains("dotnet publish", dockerfile);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/gguf-optimize.dll\"]", dockerfile);
        foreach (var file in new[] { "shards-job.yaml", "merge-job.yaml" })
        {
            var container = Container(Load(file));
            Assert.Equal(tag.Groups["tag"].Value, Text(container, "image"));
            // The arguments go to the entrypoint: no command of its own.
            Assert.False(container.Children.ContainsKey(new YamlScalarNode("command")), $"{file} overrides the image's entrypoint");
        }
    }
}
