using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure;

/// <summary>Every subcommand, in the order <c>--help</c> lists them. One line per command.</summary>
internal static class CommandCatalog
{
    /// <summary>Each command's name and how to build it (the name is checked against the built command by a test).</summary>
    private static readonly (string Name, Func<Command> Create)[] Entries =
    [
        ("inspect", Commands.InspectCommand.Create),
        ("logits", Commands.LogitsCommand.Create),
        ("kld", Commands.KldCommand.Create),
        ("quantize", Commands.QuantizeCommand.Create),
        ("imatrix", Commands.ImatrixCommand.Create),
        ("merge", Commands.MergeCommand.Create),
        ("dataset", Commands.DatasetCommand.Create),
        ("iterate", Commands.IterateCommand.Create),
        ("sensitivity", Commands.SensitivityCommand.Create),
        ("recipe", Commands.RecipeCommand.Create),
        ("report", Commands.ReportCommand.Create),
        ("status", Commands.StatusCommand.Create),
        ("tune", Commands.TuneCommand.Create),
        ("demo", Commands.DemoCommand.Create),
    ];

    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    public static IEnumerable<Command> All() => Entries.Select(e => e.Create());

    // For runs at every start: plain loops, because LINQ over this array of value tuples is compiled at run time
    // (the generic instantiations are not in any precompiled image), start-up work for nothing.

    /// <summary>
    /// The commands a command line needs parsed: only the one it names when its first word (before any option) is a
    /// command, all of them otherwise (root help, a typo, a global option with a value first). Building every
    /// command's options is JIT work a run pays at start-up before anything useful: about half a second of the
    /// process's start measured on a loaded 2-core machine, most of it for commands that were not asked for.
    /// </summary>
    public static IReadOnlyList<Command> For(IReadOnlyList<string> args)
    {
        string? first = args.Count > 0 ? args[0] : null;
        bool named = false;
        for (int i = 0; i < Entries.Length; i++)
            named |= Entries[i].Name == first;
        var commands = new List<Command>(named ? 1 : Entries.Length);
        for (int i = 0; i < Entries.Length; i++)
            if (!named || Entries[i].Name == first) commands.Add(Entries[i].Create());
        return commands;
    }
}
