using System.CommandLine;
using GgufOptimize.Common;
using GgufOptimize.Engine;

namespace GgufOptimize.Cli.Infrastructure;

/// <summary>
/// Runs a command body with the shared conventions: llama.cpp logging per --verbose, progress per --quiet,
/// one error line on stderr and a meaningful exit code.
/// </summary>
internal static class CommandRunner
{
    public static void SetAction(Command command, Func<ParseResult, CommandContext, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            bool verbose = parseResult.GetValue(GlobalOptions.Verbose);
            bool quiet = parseResult.GetValue(GlobalOptions.Quiet);
            NativeRuntime.Initialize(verbose ? Console.Error.Write : null);
            var context = new CommandContext(verbose, quiet);
            try
            {
                return await body(parseResult, context, cancellationToken);
            }
            catch (GgufOptimizeException e)
            {
                context.Progress.Finish();
                Console.Error.WriteLine($"gguf-optimize: error: {e.Message}");
                if (verbose && e.InnerException is not null) Console.Error.WriteLine(e.InnerException);
                return e.Kind == FailureKind.BadInput ? ExitCodes.BadInput : ExitCodes.Failure;
            }
            catch (OperationCanceledException)
            {
                context.Progress.Finish();
                Console.Error.WriteLine("gguf-optimize: interrupted; completed work is kept, run the same command again to resume");
                return ExitCodes.Cancelled;
            }
            catch (IOException e)
            {
                context.Progress.Finish();
                Console.Error.WriteLine($"gguf-optimize: error: {e.Message}");
                return ExitCodes.Failure;
            }
        });
    }
}

internal sealed class CommandContext(bool verbose, bool quiet)
{
    public bool Verbose { get; } = verbose;
    public bool Quiet { get; } = quiet;
    public IProgressSink Progress { get; } = quiet ? new QuietProgress() : StderrProgress.Create();
}
