using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure;

internal static class GlobalOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Show llama.cpp's own log output and extra detail on stderr",
        Recursive = true,
    };

    /// <summary>The environment variable that stands for --llama-lib when the option is not given.</summary>
    public const string LlamaLibVariable = "GGUF_OPTIMIZE_LLAMA_LIB";

    public static readonly Option<string?> LlamaLib = new("--llama-lib")
    {
        Description = $"Folder of your own llama.cpp shared-library build (CUDA, Vulkan, ROCm, Metal) at commit {Engine.NativeRuntime.PinnedCommit[..8]}, used instead of the bundled CPU build; also ${LlamaLibVariable} (docs/gpu.md)",
        HelpName = "DIR",
        Recursive = true,
    };

    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "No progress output on stderr (errors are still printed)",
        Recursive = true,
    };
}
