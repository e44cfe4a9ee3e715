using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Reliability;

/// <summary>YAML nested past any sensible depth is refused in one line instead of overflowing the stack.</summary>
public class HostileYamlTests
{
    [Theory]
    [InlineData("iterate", "flow")]
    [InlineData("iterate", "block")]
    [InlineData("quantize", "flow")]
    public void Deeply_nested_yaml_is_bad_input_not_a_crash(string command, string style)
    {
        using var dir = new TempDir();
        string text = style == "flow"
            ? "types: " + new string('[', 60_000) + new string(']', 60_000) + "\n"
            : "a:\n" + string.Concat(Enumerable.Range(1, 200).Select(i => new string(' ', 2 * i) + $"b{i}:\n")) + new string(' ', 402) + "x: 1\n";
        File.WriteAllText(dir.File("deep.yaml"), text);
        File.WriteAllBytes(dir.File("m.gguf"), []);
        string[] args = command == "iterate"
            ? ["iterate", "--config", dir.File("deep.yaml")]
            : ["quantize", "--config", dir.File("deep.yaml"), "-m", dir.File("m.gguf"), "--output-dir", dir.File("q")];
        var run = CliProcess.Run(args);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        string line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Contains("nests collections deeper than 32 levels", line);
    }

    [Fact]
    public void Ordinary_nesting_is_read_as_before()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("q.yaml"), "quantizations:\n  - Q4_0\n  - Q8_0\n");
        var types = GgufOptimize.Quantization.QuantizationTypes.LoadConfig(dir.File("q.yaml"));
        Assert.Equal(["Q4_0", "Q8_0"], types.Select(t => t.Name));
    }
}
