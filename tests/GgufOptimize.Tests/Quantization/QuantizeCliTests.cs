using System.Text.Json;
using GgufOptimize.Gguf;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Quantization;

public class QuantizeCliTests
{
    [SkippableFact]
    public void The_written_models_have_exactly_the_tensor_types_the_dry_run_printed()
    {
        using var dir = new TempDir();
        string[] common = ["quantize", "-m", SharedAssets.AidreamsModel, "--types", "Q4_0,q5_k_s,IQ4_XS", "-o", dir.Path, "-t", "1", "--name", "tiny"];
        var plan = CliProcess.Run([.. common, "--dry-run", "--json", "-q"]);
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Empty(Directory.GetFiles(dir.Path));
        using var json = JsonDocument.Parse(plan.Stdout);

        var run = CliProcess.Run([.. common, "-q"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("kept blk.0.ffn_down.weight in F16", run.Stdout);
        foreach (var planned in json.RootElement.EnumerateArray())
        {
            Assert.Equal("planned", planned.GetProperty("status").GetString());
            string output = planned.GetProperty("output").GetString()!;
            Assert.StartsWith(Path.Combine(dir.Path, "tiny-"), output);
            var file = GgufFile.Read(output);
            int n = 0;
            foreach (var t in planned.GetProperty("tensors").EnumerateArray())
            {
                var actual = file.Tensor(t.GetProperty("name").GetString()!);
                Assert.Equal(t.GetProperty("targetType").GetString(), GgmlTypes.Name(actual.Type), StringComparer.OrdinalIgnoreCase);
                n++;
            }
            Assert.Equal(file.Tensors.Count, n);
            Assert.Equal(planned.GetProperty("tensorBytes").GetInt64(), file.TensorDataBytes);
        }
    }

    [Slow]
    [SkippableFact]
    public void Bad_input_gives_one_error_line_and_exit_code_2()
    {
        using var dir = new TempDir();
        foreach (var args in new[]
        {
            new[] { "quantize", "-m", SharedAssets.AidreamsModel, "--types", "Q4_0,Q9_9", "-o", dir.Path },
            ["quantize", "-m", SharedAssets.AidreamsModel, "-o", dir.Path],
            ["quantize", "-m", SharedAssets.AidreamsModel, "--types", "IQ1_S", "-o", dir.Path],
            ["quantize", "-m", dir.File("nope.gguf"), "--types", "Q4_0", "-o", dir.Path],
            ["imatrix", "stats", SharedAssets.AidreamsModel],
        })
        {
            var r = CliProcess.Run([.. args, "-q"]);
            Assert.Equal(2, r.ExitCode);
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith("gguf-optimize: error: ", lines[0]);
        }
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
