using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Engine;

/// <summary>The engine options on the command line: bad values exit 2 naming the option; changed RoPE/cache settings change the logits and their provenance.</summary>
[Collection("engine-workflow")]
public class EngineOptionsCliTests
{
    [Theory]
    [InlineData("logits", "-ngl", "lots")]
    [InlineData("kld", "--split-mode", "diagonal")]
    [InlineData("imatrix", "-fa", "sometimes")]
    [InlineData("logits", "-ctk", "q4_k")]
    [InlineData("kld", "--rope-freq-scale", "-2")]
    [InlineData("imatrix", "-ts", "1,,2")]
    public void A_bad_engine_value_exits_2_naming_the_option(string command, string option, string value)
    {
        using var dir = new TempDir();
        var r = CliProcess.Run(command, option, value, command == "kld" ? "--target-model" : "-m", dir.File("missing.gguf"), "-d", dir.File("missing.txt"), "-q");
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"'{value}' is not valid", line);
        Assert.Matches("--[a-z-]+ '", line);
    }

    [Fact]
    public void Every_model_running_command_offers_the_engine_options()
    {
        foreach (var command in new[] { "logits", "kld", "imatrix", "iterate", "dataset" })
        {
            string help = CliProcess.Run(command, "--help").Stdout;
            foreach (var spelling in new[] { "-ngl, --gpu-layers, --n-gpu-layers", "-mg, --main-gpu", "-sm, --split-mode", "-ts, --tensor-split", "--no-mmap", "--mlock",
                         "-fa, --flash-attn", "-ctk, --cache-type-k", "-ctv, --cache-type-v", "--rope-freq-base", "--rope-freq-scale", "--llama-lib" })
                Assert.True(help.Contains(spelling, StringComparison.Ordinal), $"{command} --help lacks {spelling}");
        }
    }

    [Slow]
    [Fact]
    public void Rope_and_cache_type_change_the_logits_and_the_recorded_engine_settings()
    {
        using var dir = new TempDir();
        string[] Args(string output, params string[] extra) =>
            ["logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output, "-c", "128", "-t", "1", "-q", "--format", "full", .. extra.Contains("--to-chunk") ? extra : [.. extra, "--to-chunk", "1"]];
        string plain = dir.File("plain.h5"), again = dir.File("again.h5"), rope = dir.File("rope.h5"), cache = dir.File("cache.h5");
        Assert.Equal(0, CliProcess.Run(Args(plain)).ExitCode);
        Assert.Equal(0, CliProcess.Run(Args(again, "--no-mmap")).ExitCode);
        Assert.Equal(0, CliProcess.Run(Args(rope, "--rope-freq-base", "2500", "--rope-freq-scale", "0.5")).ExitCode);
        Assert.Equal(0, CliProcess.Run(Args(cache, "-ctk", "q8_0", "-ctv", "q8_0", "-fa", "on")).ExitCode);

        float[] Logits(string path)
        {
            using var reader = BaselineLogitsReader.Open(path);
            return reader.ChunkLogits(0).ToArray();
        }
        var basis = Logits(plain);
        // --no-mmap reads the same bytes: identical logits, identical identity (so either may resume the other).
        Assert.Equal(basis, Logits(again));
        Assert.Equal(BaselineLogitsReader.ReadHeader(plain).Engine, BaselineLogitsReader.ReadHeader(again).Engine);
        Assert.NotEqual(basis, Logits(rope));
        Assert.NotEqual(basis, Logits(cache));

        string engine = BaselineLogitsReader.ReadHeader(plain).Engine!;
        Assert.Contains("rope_freq_base model", engine);
        Assert.Contains("type_k f16", engine);
        string ropeEngine = BaselineLogitsReader.ReadHeader(rope).Engine!;
        Assert.Contains("rope_freq_base 2500", ropeEngine);
        Assert.Contains("rope_freq_scale 0.5", ropeEngine);
        string cacheEngine = BaselineLogitsReader.ReadHeader(cache).Engine!;
        Assert.Contains("type_k q8_0, type_v q8_0", cacheEngine);
        Assert.Contains("flash_attn on", cacheEngine);

        // Extending the plain baseline with another RoPE is refused, naming the setting; with --no-mmap it is not.
        var refused = CliProcess.Run(Args(plain, "--to-chunk", "2", "--rope-freq-base", "2500"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("rope_freq_base", refused.Stderr);
        Assert.Equal(0, CliProcess.Run(Args(plain, "--to-chunk", "2", "--no-mmap", "--mlock")).ExitCode);
    }

    [SkippableFact]
    public void A_cache_type_the_model_cannot_take_is_bad_input_before_any_output()
    {
        // aidreams260K has 16-dimensional heads; q8_0's 32-element blocks do not divide them (llama.cpp refuses the context).
        using var dir = new TempDir();
        string output = dir.File("out.h5");
        var r = CliProcess.Run("logits", "-m", SharedAssets.AidreamsModel, "-d", SharedAssets.AidreamsText, "-o", output, "--to-chunk", "1", "-ctk", "q8_0", "-q");
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("--cache-type-k q8_0", line);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
