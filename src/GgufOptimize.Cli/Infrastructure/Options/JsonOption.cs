using System.CommandLine;
using GgufOptimize.Common;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>
/// --json with an optional file: bare (or <c>--json -</c>) prints JSON on stdout instead of the text; <c>--json
/// FILE.json</c> writes it there and prints the text as usual. Only a value ending in .json (or -) is taken as the
/// file, so <c>inspect --json model.gguf</c> still means "JSON on stdout for model.gguf" (see <see cref="Normalize"/>).
/// </summary>
internal sealed class JsonOption
{
    public const string Stdout = "-";

    public Option<string?> Option { get; } = new(OptionVocabulary.Json.Name)
    {
        Description = OptionVocabulary.Json.Description,
        Arity = ArgumentArity.ZeroOrOne,
        HelpName = "FILE.json",
    };

    /// <summary>Where the JSON goes: null when --json was not given, <see cref="Stdout"/>, or a file.</summary>
    public string? Target(ParseResult parse) =>
        parse.GetResult(Option) is { Implicit: false } ? parse.GetValue(Option) ?? Stdout : null;

    public bool ToStdout(ParseResult parse) => Target(parse) == Stdout;

    /// <summary>Refuses a --json file that could not be written (a folder, a missing or read-only folder) before any work.</summary>
    public static void CheckTarget(ParseResult parse)
    {
        var option = parse.CommandResult.Command.Options.OfType<Option<string?>>().FirstOrDefault(o => o.Name == OptionVocabulary.Json.Name);
        if (option is null || parse.GetResult(option) is not { Implicit: false }) return;
        string? target = parse.GetValue(option);
        if (target is null || target == Stdout) return;
        OutputPaths.EnsureWritableDirectory(target, OptionVocabulary.Json.Name);
    }

    /// <summary>Prints the text, the JSON, or both (the JSON to its file), as --json asks.</summary>
    public void Emit(ParseResult parse, Func<string> json, Func<string> text)
    {
        string? target = Target(parse);
        if (target == Stdout)
        {
            Console.Out.Write(WithNewline(json()));
            return;
        }
        if (target is not null) AtomicFile.WriteAllText(target, WithNewline(json()));
        Console.Out.Write(text());
    }

    /// <summary>
    /// System.CommandLine gives an option's optional value to whatever token follows it, so a bare --json before a
    /// positional argument would swallow it. Before parsing, a --json not followed by "-" or a .json file gets an
    /// explicit "-" (stdout), which is what it means.
    /// </summary>
    public static string[] Normalize(string[] args)
    {
        var result = new List<string>(args.Length + 1);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--") { result.AddRange(args[i..]); break; }
            result.Add(args[i]);
            if (args[i] == OptionVocabulary.Json.Name && (i + 1 >= args.Length || !IsTarget(args[i + 1]))) result.Add(Stdout);
        }
        return [.. result];
    }

    private static bool IsTarget(string token) => token == Stdout || token.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    private static string WithNewline(string s) => s.EndsWith('\n') ? s : s + "\n";
}
