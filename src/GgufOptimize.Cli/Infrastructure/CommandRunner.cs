using System.CommandLine;
using GgufOptimize.Cli.Infrastructure.Progress;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;

namespace GgufOptimize.Cli.Infrastructure;

/// <summary>
/// Runs a command body with the shared conventions: llama.cpp logging per --verbose, progress per --quiet and the
/// terminal, one error line on stderr and a meaningful exit code. The progress display is always ended before an
/// error is printed, so the message is never drawn into a live bar.
/// </summary>
internal static class CommandRunner
{
    public static void SetAction(Command command, Func<ParseResult, CommandContext, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // The model's header is read and checked on the other core while llama.cpp's libraries load (see GgufHeaderPrefetch).
            if (ModelPath(parseResult) is { } modelPath) GgufHeaderPrefetch.Start(modelPath);
            bool verbose = parseResult.GetValue(GlobalOptions.Verbose);
            bool quiet = parseResult.GetValue(GlobalOptions.Quiet);
            var error = parseResult.InvocationConfiguration.Error;
            using var context = new CommandContext(verbose, quiet, ProgressSinks.ForStderr(verbose, quiet));
            try
            {
                UseUserLibrary(parseResult);
                NativeRuntime.Initialize(verbose ? Console.Error.Write : null);
                // The result file is written last: a bad path must fail now, not after the work.
                Options.JsonOption.CheckTarget(parseResult);
                if (verbose) Console.Error.WriteLine($"llama.cpp library: {NativeRuntime.LibraryPath} ({NativeRuntime.LibraryIdentity})");
                return await body(parseResult, context, cancellationToken);
            }
            catch (Exception e)
            {
                context.EndProgress();
                return Failures.Report(e, verbose, error);
            }
        });
    }

    /// <summary>The command's --model, when it has one and it was given.</summary>
    private static string? ModelPath(ParseResult parse)
    {
        foreach (var option in parse.CommandResult.Command.Options)
            if (option.Name == Options.OptionVocabulary.Model.Name && option is Option<string> model) return parse.GetValue(model);
        return null;
    }

    /// <summary>--llama-lib, else $GGUF_OPTIMIZE_LLAMA_LIB: checked before any work, so a broken folder fails at once.</summary>
    private static void UseUserLibrary(ParseResult parse)
    {
        if (NativeRuntime.UserLibraryFolder is not null) return;
        string? folder = parse.GetValue(GlobalOptions.LlamaLib);
        string option = GlobalOptions.LlamaLib.Name;
        if (string.IsNullOrEmpty(folder))
        {
            folder = Environment.GetEnvironmentVariable(GlobalOptions.LlamaLibVariable);
            option = "$" + GlobalOptions.LlamaLibVariable;
        }
        if (!string.IsNullOrEmpty(folder)) NativeRuntime.UseLibraryFolder(folder, option);
    }
}

internal sealed class CommandContext(bool verbose, bool quiet, IProgressSink progress) : IDisposable
{
    public bool Verbose { get; } = verbose;
    public bool Quiet { get; } = quiet;
    public IProgressSink Progress { get; } = progress;

    /// <summary>Ends a live display (restoring the cursor) so what follows prints on a clean line.</summary>
    public void EndProgress()
    {
        try { Progress.Finish(); }
        catch (Exception) { /* the display itself failed; the error about to be printed matters more */ }
    }

    public void Dispose() => EndProgress();
}
