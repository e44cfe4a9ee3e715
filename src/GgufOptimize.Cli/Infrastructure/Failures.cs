using GgufOptimize.Common;

namespace GgufOptimize.Cli.Infrastructure;

/// <summary>
/// What a failed command prints: one line on stderr and its exit code. Bad input is 2, an interruption 130, and
/// every other failure 1. An exception the code did not expect is a bug: it still gets one line, and the stack
/// trace only with --verbose.
/// </summary>
internal static class Failures
{
    public static int Report(Exception e, bool verbose, TextWriter error)
    {
        switch (e)
        {
            case GgufOptimizeException g:
                error.WriteLine($"gguf-optimize: error: {OneLine(g.Message)}");
                if (verbose && g.InnerException is not null) error.WriteLine(g.InnerException);
                return g.Kind == FailureKind.BadInput ? ExitCodes.BadInput : ExitCodes.Failure;
            case OperationCanceledException:
                error.WriteLine("gguf-optimize: interrupted; completed work is kept, run the same command again to resume");
                return ExitCodes.Cancelled;
            case IOException or UnauthorizedAccessException:
                error.WriteLine($"gguf-optimize: error: {OneLine(e.Message)}");
                if (verbose) error.WriteLine(e);
                return ExitCodes.Failure;
            default:
                error.WriteLine($"gguf-optimize: internal error ({e.GetType().Name}): {OneLine(e.Message)}" +
                                (verbose ? "" : " (a bug: run the same command with --verbose for the stack trace, and please report it)"));
                if (verbose) error.WriteLine(e);
                return ExitCodes.Failure;
        }
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
