using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Logits;

/// <summary>
/// A baseline records the engine settings that made its logits; a run with other settings (here -ub, which changes
/// llama.cpp's logits) neither extends nor resumes it, while the same settings do.
/// </summary>
[Collection("engine-workflow")]
public class LogitsEngineIdentityTests
{
    [Slow]
    [Theory]
    [InlineData("full")]
    [InlineData("compact")]
    [InlineData("compact-1")]
    public void A_baseline_is_only_extended_with_the_engine_settings_that_made_it(string format)
    {
        using var dir = new TempDir();
        string output = dir.File("base.h5");
        string[] Args(string ubatch, int to, params string[] extra) =>
            ["logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output, "--format", format, "-ub", ubatch, "--to-chunk", to.ToString(), "-t", "1", "-q", .. extra];

        Assert.Equal(0, CliProcess.Run(Args("16", 2)).ExitCode);
        string engine = Assert.IsType<string>(ReadEngine(output, format));
        Assert.Contains("n_ubatch 16", engine);
        Assert.Contains("libllama.so sha256", engine);
        byte[] before = File.ReadAllBytes(output);

        var refused = CliProcess.Run(Args("64", 4));
        Assert.Equal(2, refused.ExitCode);
        string line = Assert.Single(refused.Stderr.Trim().Split('\n'));
        Assert.Contains("engine settings", line);
        Assert.Contains("n_ubatch 16", line);
        Assert.Contains("--overwrite", line);
        Assert.Equal(before, File.ReadAllBytes(output));

        Assert.Equal(0, CliProcess.Run(Args("16", 4)).ExitCode);
        Assert.Contains("n_ubatch 16", ReadEngine(output, format));
        Assert.Equal(0, CliProcess.Run(Args("64", 4, "--overwrite")).ExitCode);
        Assert.Contains("n_ubatch 64", ReadEngine(output, format));
    }

    private static string? ReadEngine(string path, string format) => format switch
    {
        "compact" => ReadQuantizedEngine(path),
        "compact-1" => GgufOptimize.Storage.Formats.Compact.CompactBaselineReader.ReadHeader(path).Header.Engine,
        _ => BaselineLogitsReader.ReadHeader(path).Engine,
    };

    private static string? ReadQuantizedEngine(string path)
    {
        using var reader = GgufOptimize.Storage.Formats.Compact.QuantizedBaselineReader.Open(path);
        return reader.Header.Engine;
    }
}
