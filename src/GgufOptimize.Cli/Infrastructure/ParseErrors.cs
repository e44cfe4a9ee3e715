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
        if (parsed.CommandResult.Command == root && parsed.UnmatchedTokens is [var word, ..] && !word.StartsWith('-'))
            message = UnknownCommand(word, root.Subcommands.Select(c => c.Name).ToArray());
        error.WriteLine($"gguf-optimize: error: {message} (see '{command} --help')");
        return ExitCodes.BadInput;
    }

    /// <summary>
    /// System.CommandLine reports a mistyped command as "Required command was not provided", which names neither the
    /// word typed nor the command meant; this names both (the nearest command within two edits).
    /// </summary>
    private static string UnknownCommand(string word, string[] commands)
    {
        var nearest = commands.Select(c => (Name: c, Distance: EditDistance(word.ToLowerInvariant(), c))).MinBy(c => c.Distance);
        return nearest.Distance <= 2
            ? $"unknown command '{word}'; did you mean '{nearest.Name}'?"
            : $"unknown command '{word}'; the commands are {string.Join(", ", commands)}";
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }
}
