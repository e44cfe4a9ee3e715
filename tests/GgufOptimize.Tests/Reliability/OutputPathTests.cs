using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Reliability;

/// <summary>Outputs that cannot work are refused before any model runs: exit 2, one line naming the option.</summary>
[Collection("engine-workflow")]
public class OutputPathTests
{
    [Fact]
    public void An_output_that_is_a_directory_or_too_long_a_name_is_refused_up_front()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("taken"));
        string longName = new string('x', 241) + ".h5";
        foreach (string output in new[] { dir.File("taken"), dir.File(longName) })
        {
            var cases = new[]
            {
                new[] { "logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output },
                ["imatrix", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Calibration, "-o", output],
            };
            foreach (var args in cases)
            {
                var run = CliProcess.Run(args);
                Assert.True(run.ExitCode == 2, $"{args[0]} -o {Path.GetFileName(output)}: exit {run.ExitCode}, {run.Stderr}");
                string line = Assert.Single(run.Stderr.Trim().Split('\n'));
                Assert.Contains("--output", line);
                Assert.Contains(output == dir.File("taken") ? "is a directory" : "bytes long; use at most 239", line);
            }
        }
        Assert.Equal(["taken"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_temporary_name_for_a_long_output_stays_within_the_name_limit()
    {
        using var dir = new TempDir();
        string path = dir.File(new string('é', 119) + ".h5"); // 241 bytes in UTF-8
        string temp = GgufOptimize.Common.AtomicFile.TempName(path);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(temp)) <= 255, Path.GetFileName(temp));
        GgufOptimize.Common.AtomicFile.WriteAllText(path, "complete");
        Assert.Equal("complete", File.ReadAllText(path));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'b', 0xC3, 0xA9, (byte)'c', 0xFF }, 5)]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'a', 0xE2, 0x82 }, 4)]
    [InlineData(new byte[] { (byte)'x', 0xC3, (byte)'y', (byte)'z' }, 1)]
    public void Invalid_utf8_is_reported_at_its_exact_byte_offset(byte[] content, int offset)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("bad.txt"), [.. System.Text.Encoding.UTF8.GetBytes(new string('w', 70_000)), .. content]);
        var run = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", dir.File("bad.txt"), "-o", dir.File("b.h5"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"first invalid byte at offset {70_000 + offset})", run.Stderr);
    }
}
