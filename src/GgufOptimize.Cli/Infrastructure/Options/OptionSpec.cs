namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>
/// The words of one shared option: its name, the aliases --help shows, the old spellings that still parse but are
/// hidden, and its description. Every command that has the option builds it from here, so the spelling and the help
/// text cannot drift between commands.
/// </summary>
internal sealed record OptionSpec(string Name, string[] Aliases, string Description, string[]? Legacy = null)
{
    /// <summary>False for options whose meaning each command words itself (which model, which output).</summary>
    public bool SharedDescription { get; init; } = true;

    public IEnumerable<string> AllNames => new[] { Name }.Concat(Aliases);
    public string[] LegacyNames => Legacy ?? [];
}
