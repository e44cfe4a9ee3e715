using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>Whether the user typed an option, as opposed to it taking its default.</summary>
internal static class OptionPresence
{
    public static bool IsGiven(this ParseResult parse, Option? option) => option is not null && parse.GetResult(option) is { Implicit: false };
}
