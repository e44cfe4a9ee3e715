using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>
/// An option with old spellings that keep existing scripts working but stay out of --help (System.CommandLine shows
/// every alias of an option, so each old spelling is its own hidden option; the value comes from whichever was given).
/// </summary>
internal sealed class AliasedOption<T>
{
    public Option<T> Option { get; }
    private readonly Option<T>[] _legacy;

    public AliasedOption(Option<T> option, IEnumerable<string> legacyNames)
    {
        Option = option;
        _legacy = legacyNames.Select(n => new Option<T>(n) { Hidden = true, Description = option.Description, Arity = option.Arity }).ToArray();
    }

    public IEnumerable<Option> Symbols => new Option[] { Option }.Concat(_legacy);

    public void AddTo(Command command)
    {
        foreach (var o in Symbols) command.Options.Add(o);
    }

    public T? Get(ParseResult parse)
    {
        foreach (var legacy in _legacy)
            if (parse.GetResult(legacy) is { Implicit: false }) return parse.GetValue(legacy);
        return parse.GetValue(Option);
    }
}
