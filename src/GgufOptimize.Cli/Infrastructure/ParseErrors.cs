using System.CommandLine;
using System.CommandLine.Parsing;
using GgufOptimize.Common;

namespace GgufOptimize.Cli.Infrastructure;

/// <summary>A command line that does not parse: one line naming the option, exit 2, like every other bad input.</summary>
internal static class ParseErrors
{
    public static int Report(ParseResult parsed, RootCommand root, TextWriter error)
    {
        string command = parsed.CommandResult.Command == root ? "gguf-optimize" : $"gguf-optimize {parsed.CommandResult.Command.Name}";
        string message = string.Join(' ', parsed.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
        string? option = parsed.Errors[0].SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            _ => null,
        };
        if (option is not null && !message.Contains(option)) message = $"{option}: {message}";
        error.WriteLine($"gguf-optimize: error: {message} (see '{command} --help')");
        return ExitCodes.BadInput;
    }
}
