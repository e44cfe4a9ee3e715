using System.Diagnostics;
using System.Text.RegularExpressions;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Docs;

/// <summary>
/// The README's worked example is run as written, on the real model in ../shared: every command must succeed and
/// every output line the README shows must be one the command really prints, so the README cannot drift from the
/// tool. Lines that report a duration are compared without it.
/// </summary>
[Collection("engine-workflow")]
public partial class ReadmeExampleTests(ITestOutputHelper output)
{
    [Slow]
    [SkippableFact]
    public void The_method_by_hand_runs_as_written_and_prints_what_the_readme_shows()
    {
        string shared = SharedAssets.RequireRoot();
        var steps = ReadExample();
        Assert.True(steps.Count >= 8, $"the README's example has {steps.Count} commands");
        using var dir = new TempDir();
        foreach (var step in steps)
        {
            var args = step.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(a => a.Replace("../shared", shared)).ToArray();
            var run = CliProcess.RunIn(dir.Path, args);
            output.WriteLine($"$ gguf-optimize {step.Command}\n{run.Stdout}{run.Stderr}");
            Assert.True(run.ExitCode == 0, $"'{step.Command}' exited {run.ExitCode}: {run.Stderr}");
            var printed = Normalize(run.Stdout + "\n" + run.Stderr);
            foreach (var line in step.Shown)
                Assert.True(printed.Contains(Normalize(line)), $"the README shows '{line}' after '{step.Command}', the command did not print it");
        }
    }

    private sealed record Step(string Command, List<string> Shown);

    private static List<Step> ReadExample()
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        int section = readme.IndexOf("## The method by hand", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no '## The method by hand' section");
        int start = readme.IndexOf("```console\n", section, StringComparison.Ordinal) + "```console\n".Length;
        int end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        var steps = new List<Step>();
        foreach (var line in readme[start..end].Split('\n'))
        {
            if (line.StartsWith("$ gguf-optimize ", StringComparison.Ordinal)) steps.Add(new Step(line["$ gguf-optimize ".Length..], []));
            else if (line.Length > 0 && !line.StartsWith('#') && steps.Count > 0) steps[^1].Shown.Add(line);
        }
        return steps;
    }

    /// <summary>Whitespace folded, durations ("in 4.5 s") dropped: they are the only thing that differs run to run.</summary>
    private static string Normalize(string text) => Duration().Replace(Spaces().Replace(text, " "), " in _ s");

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GgufOptimize.slnx"))) return dir.FullName;
        throw new InvalidOperationException("the repository root (GgufOptimize.slnx) was not found above the test binaries");
    }

    [GeneratedRegex(@"[ \t]+")] private static partial Regex Spaces();
    [GeneratedRegex(@" in [0-9.]+ ?(ms|s)\b")] private static partial Regex Duration();
}
