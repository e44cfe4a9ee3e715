using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Datasets;

/// <summary>Sources that yield no usable sample are bad input: exit 2, one line saying why, no dataset written.</summary>
public class EmptySourceTests
{
    [Theory]
    [InlineData("empty.txt", "", "the sources hold no text")]
    [InlineData("blank.txt", "\n\n   \n\n", "the sources hold no text")]
    [InlineData("broken.jsonl", "{\"other\": 1}\nnot json\n", "1 record malformed (skipped); first: ")]
    public void A_source_without_usable_samples_is_refused_and_nothing_is_written(string name, string content, string reason)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File(name), content);
        var run = CliProcess.Run("dataset", "--source", dir.File(name), "-o", dir.File("out.txt"), "-q");
        Assert.Equal(2, run.ExitCode);
        var lines = run.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("gguf-optimize: error: no usable sample in ", lines[0]);
        Assert.Contains(reason, lines[0]);
        if (name.EndsWith(".jsonl")) Assert.Contains($"{name}:2", lines[0]);
        Assert.Equal([name], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
