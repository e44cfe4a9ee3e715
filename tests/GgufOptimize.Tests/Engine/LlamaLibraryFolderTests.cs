using GgufOptimize.Engine;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Engine;

/// <summary>
/// --llama-lib / $GGUF_OPTIMIZE_LLAMA_LIB: a user's own llama.cpp build, stood in for by a copy of the bundled CPU
/// libraries in another folder (which must be used, and recorded), and broken folders (refused at start, exit 2).
/// </summary>
[Collection("engine-workflow")]
public class LlamaLibraryFolderTests
{
    /// <summary>A copy of the bundled CPU build (the avx2 variant runs on any machine these tests run on).</summary>
    private static string CopyBundled(TempDir dir)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "avx2");
        Skip.IfNot(OperatingSystem.IsLinux() && Directory.Exists(source), "needs the bundled linux-x64 llama.cpp libraries");
        string target = Path.Combine(dir.Path, "llama build");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source, "*.so")) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    [SkippableFact]
    public void A_copied_build_is_loaded_from_its_folder_and_named_in_the_log_and_the_provenance()
    {
        using var dir = new TempDir();
        string lib = CopyBundled(dir);
        string output = dir.File("base.h5");
        var r = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output, "--to-chunk", "1", "-c", "128",
            "-t", "1", "-q", "-v", "--format", "full", "--llama-lib", lib);
        Assert.True(r.ExitCode == 0, r.Stderr[^Math.Min(2000, r.Stderr.Length)..]);
        Assert.Contains($"llama.cpp library: {Path.Combine(lib, "libllama.so")}", r.Stderr);
        Assert.Contains($"{lib}/libllama.so sha256", BaselineLogitsReader.ReadHeader(output).Engine);

        // The environment variable does the same when the option is absent.
        var env = CliProcess.RunWithEnvironment(new Dictionary<string, string> { ["GGUF_OPTIMIZE_LLAMA_LIB"] = lib }, "inspect", WorkflowAssets.Model, "-v");
        Assert.True(env.ExitCode == 0, env.Stderr);
        Assert.Contains($"llama.cpp library: {Path.Combine(lib, "libllama.so")}", env.Stderr);
    }

    [SkippableTheory]
    [InlineData("empty", "libggml-base.so is missing")]
    [InlineData("no-ggml", "libggml.so is missing")]
    [InlineData("garbage", "libggml.so does not load")]
    [InlineData("absent", "no such folder")]
    public void A_broken_folder_is_refused_at_start_with_one_line(string kind, string expected)
    {
        using var dir = new TempDir();
        string lib = CopyBundled(dir);
        switch (kind)
        {
            case "empty":
                foreach (var f in Directory.GetFiles(lib)) File.Delete(f);
                break;
            case "no-ggml":
                File.Delete(Path.Combine(lib, "libggml.so"));
                break;
            case "garbage":
                File.WriteAllBytes(Path.Combine(lib, "libggml.so"), [.. "this is not an ELF file"u8]);
                break;
            case "absent":
                lib = Path.Combine(dir.Path, "nowhere");
                break;
        }
        var r = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", dir.File("out.h5"), "-q", "--llama-lib", lib);
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("--llama-lib", line);
        Assert.Contains(expected, line);
        Assert.False(File.Exists(dir.File("out.h5")) || File.Exists(dir.File("out.h5.partial")));

        var env = CliProcess.RunWithEnvironment(new Dictionary<string, string> { ["GGUF_OPTIMIZE_LLAMA_LIB"] = lib }, "inspect", WorkflowAssets.Model);
        Assert.Equal(2, env.ExitCode);
        Assert.Contains("$GGUF_OPTIMIZE_LLAMA_LIB", env.Stderr);
    }

    /// <summary>
    /// The entry-point check holds the bundled build (the pinned commit) to exactly the functions LLamaSharp and we
    /// bind, minus LLamaSharp's stale declarations; if LLamaSharp is upgraded this list must be looked at again.
    /// </summary>
    [Fact]
    public void The_entry_point_check_covers_our_bindings_and_only_known_stale_declarations_are_excused()
    {
        var bound = UserLibrary.BoundEntryPoints().Select(b => b.Entry).ToHashSet();
        Assert.Contains("llama_model_quantize", bound);
        Assert.Contains("llama_decode", bound);
        Assert.Contains("ggml_nbytes", bound);
        Assert.Subset(bound, UserLibrary.NotInPinnedBuild);
    }
}
