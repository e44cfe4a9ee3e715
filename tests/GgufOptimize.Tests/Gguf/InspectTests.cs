using System.Diagnostics;
using System.Text.Json;
using GgufOptimize.Gguf;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Gguf;

public class InspectTests
{
    private static readonly SyntheticModelOptions Options = new()
    {
        VocabSize = 1024, EmbeddingLength = 512, LayerCount = 2, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 1024,
        ContextLength = 640, WeightType = GgmlType.F16, Name = "inspect-me",
    };

    [Fact]
    public void Summary_matches_what_was_written()
    {
        using var dir = new TempDir();
        SyntheticModel.Write(dir.File("m.gguf"), Options);
        var s = ModelInspector.Inspect(dir.File("m.gguf"));
        Assert.Equal("llama", s.Architecture);
        Assert.Equal("inspect-me", s.Name);
        Assert.Equal(Options.ParameterCount, s.ParameterCount);
        Assert.Equal(512, s.EmbeddingLength);
        Assert.Equal(2, s.BlockCount);
        Assert.Equal(4, s.HeadCount);
        Assert.Equal(2, s.HeadCountKv);
        Assert.Equal(1024, s.FeedForwardLength);
        Assert.Equal(640, s.ContextLength);
        Assert.Equal(1024, s.VocabSize);
        Assert.Equal("llama", s.TokenizerModel);
        Assert.Equal(1, s.FileType);
        Assert.Equal("F16", s.FileTypeName);
        Assert.Equal(2 + 2 * 7 + 1 + 2 * 2, s.TensorCount);
        var f32 = s.TensorTypes.Single(t => t.Type == "F32");
        var f16 = s.TensorTypes.Single(t => t.Type == "F16");
        Assert.Equal(1 + 2 * 2, f32.Tensors);           // norms
        Assert.Equal(2 + 2 * 7, f16.Tensors);           // embeddings, classifier, 7 matrices per layer
        Assert.Equal(f32.Parameters * 4 + f16.Parameters * 2, s.TensorDataBytes);
        Assert.Equal(s.TensorDataBytes * 8.0 / s.ParameterCount, s.BitsPerWeight, 9);
        Assert.InRange(s.BitsPerWeight, 16.0, 16.1);
        Assert.Null(s.Metadata);
        Assert.Equal(new FileInfo(dir.File("m.gguf")).Length, s.FileBytes);
    }

    [Slow]
    [Fact]
    public void Cli_json_matches_the_library_summary()
    {
        using var dir = new TempDir();
        SyntheticModel.Write(dir.File("m.gguf"), Options);
        var (code, stdout, stderr) = RunCli("inspect", dir.File("m.gguf"), "--json", "--metadata");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        var s = ModelInspector.Inspect(dir.File("m.gguf"));
        Assert.Equal(s.ParameterCount, root.GetProperty("parameterCount").GetInt64());
        Assert.Equal("llama", root.GetProperty("architecture").GetString());
        Assert.Equal(512, root.GetProperty("embeddingLength").GetInt64());
        Assert.Equal(2, root.GetProperty("headCountKv").GetInt64());
        Assert.Equal(1024, root.GetProperty("vocabSize").GetInt32());
        Assert.Equal("F16", root.GetProperty("fileTypeName").GetString());
        Assert.Equal(s.BitsPerWeight, root.GetProperty("bitsPerWeight").GetDouble(), 12);
        Assert.Equal(s.TensorTypes.Count, root.GetProperty("tensorTypes").GetArrayLength());
        var metadata = root.GetProperty("metadata").EnumerateArray().ToList();
        Assert.Equal(s.MetadataCount, metadata.Count);
        var tokens = metadata.Single(m => m.GetProperty("key").GetString() == GgufKeys.Tokens);
        Assert.Equal("array[string]", tokens.GetProperty("type").GetString());
        Assert.Contains("(1024 items)", tokens.GetProperty("value").GetString());
    }

    [Fact]
    public void Cli_text_output_names_the_essentials()
    {
        using var dir = new TempDir();
        SyntheticModel.Write(dir.File("m.gguf"), Options);
        var (code, stdout, _) = RunCli("inspect", dir.File("m.gguf"));
        Assert.Equal(0, code);
        Assert.Contains("architecture    llama", stdout);
        Assert.Contains("file type       F16 (1)", stdout);
        Assert.Contains($"parameters      {Options.ParameterCount:N0}", stdout);
        Assert.Contains("bits per weight", stdout);
    }

    [Slow]
    [Theory]
    [InlineData("missing")]
    [InlineData("text")]
    [InlineData("truncated")]
    public void Cli_bad_input_exits_2_naming_the_file(string kind)
    {
        using var dir = new TempDir();
        string path = dir.File(kind + ".gguf");
        if (kind == "text") File.WriteAllText(path, "not a model");
        if (kind == "truncated")
        {
            SyntheticModel.Write(dir.File("full.gguf"), Options with { LayerCount = 1 });
            var bytes = File.ReadAllBytes(dir.File("full.gguf"));
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        }
        var (code, stdout, stderr) = RunCli("inspect", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(path, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    private static (int Code, string Stdout, string Stderr) RunCli(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "gguf-optimize.dll");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
