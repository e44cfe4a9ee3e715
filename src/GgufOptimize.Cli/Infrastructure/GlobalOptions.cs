using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure;

internal static class GlobalOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Show llama.cpp's own log output and extra detail on stderr",
        Recursive = true,
    };

    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "No progress output on stderr (errors are still printed)",
        Recursive = true,
    };
}
