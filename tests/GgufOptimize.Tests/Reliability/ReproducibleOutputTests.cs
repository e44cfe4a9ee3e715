using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// The same commands run in two different folders write the same bytes: outputs record the paths of their inputs
/// relative to themselves (Common/RecordedPath.cs), never the absolute path of the folder the run happened in.
/// Paths are passed absolute on purpose, the way a script would pass them.
/// </summary>
[Collection("engine-workflow")]
public class ReproducibleOutputTests
{
    [Slow]
    [Fact]
    public void Imatrix_quantize_logits_and_kld_do_not_depend_on_the_folder()
    {
        using var root = new TempDir();
        string text = File.ReadAllText(WorkflowAssets.Evaluation);
        var outputs = new List<Dictionary<string, byte[]>>();
        foreach (var name in new[] { "first-place", "another/deeper/place" })
        {
            string folder = Path.Combine(root.Path, name);
            string outDir = Path.Combine(folder, "out");
            Directory.CreateDirectory(outDir);
            string model = Path.Combine(folder, "model.gguf"), data = Path.Combine(folder, "text.txt");
            File.Copy(WorkflowAssets.Model, model);
            File.WriteAllText(data, text[..(text.Length / 8)]);
            string O(string file) => Path.Combine(outDir, file);
            string[][] commands =
            [
                ["imatrix", "-m", model, "-d", data, "-o", O("imatrix.gguf"), "-c", "64", "-t", "1", "-q"],
                ["quantize", "-m", model, "--imatrix", O("imatrix.gguf"), "--types", "Q4_0", "--name", "m", "--output-dir", outDir, "-q"],
                ["logits", "-m", model, "-d", data, "-o", O("base.h5"), "-c", "64", "-t", "1", "-q"],
                ["kld", "--baseline-logits", O("base.h5"), "--target-model", O("m-Q4_0-imat-imatrix.gguf"), "-o", O("cmp.h5"), "-t", "1", "-q"],
            ];
            foreach (var args in commands)
            {
                var run = CliProcess.Run(args);
                Assert.True(run.ExitCode == 0, $"{args[0]}: {run.Stderr}");
            }
            outputs.Add(Directory.GetFiles(outDir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
        }
        Assert.Equal(outputs[0].Keys.Order(), outputs[1].Keys.Order());
        Assert.Equal(4, outputs[0].Count);
        foreach (var file in outputs[0].Keys)
            Assert.True(outputs[0][file].AsSpan().SequenceEqual(outputs[1][file]), $"{file} differs between the two folders");
        // The recorded paths still lead to the inputs from where the outputs lie.
        ByteSearch.Contains("../text.txt"u8.ToArray(), outputs[0]["imatrix.gguf"]);
    }
}

internal static class ByteSearch
{
    public static void Contains(byte[] needle, byte[] haystack) =>
        Assert.True(haystack.AsSpan().IndexOf(needle) >= 0, $"'{System.Text.Encoding.UTF8.GetString(needle)}' not found");
}
