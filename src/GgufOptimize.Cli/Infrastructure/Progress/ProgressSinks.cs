using GgufOptimize.Common;
using Spectre.Console;

namespace GgufOptimize.Cli.Infrastructure.Progress;

/// <summary>Chooses how a command shows progress on stderr.</summary>
internal static class ProgressSinks
{
    /// <summary>
    /// --quiet: only warnings. A terminal that understands ANSI codes: the live display. Otherwise (redirected
    /// stderr, TERM=dumb) and with --verbose, whose llama.cpp log lines would tear a live display: plain lines.
    /// </summary>
    public static IProgressSink ForStderr(bool verbose, bool quiet)
    {
        if (quiet) return new QuietProgress(Console.Error);
        if (verbose || Console.IsErrorRedirected) return new PlainProgress(Console.Error);
        return ForTerminal();
    }

    /// <summary>
    /// Kept out of <see cref="ForStderr"/> (and never inlined into it) so that quiet, verbose and redirected runs do not
    /// load Spectre.Console at all: two assemblies and their types, start-up time for a display they never show.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static IProgressSink ForTerminal()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = InteractionSupport.Yes,
            Ansi = AnsiSupport.Detect,
        });
        return console.Profile.Capabilities.Ansi ? new TerminalProgress(console) : new PlainProgress(Console.Error);
    }
}
