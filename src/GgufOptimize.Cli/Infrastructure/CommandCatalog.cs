using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure;

/// <summary>Every subcommand, in the order <c>--help</c> lists them. One line per command.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return Commands.InspectCommand.Create();
        yield return Commands.LogitsCommand.Create();
        yield return Commands.KldCommand.Create();
        yield return Commands.QuantizeCommand.Create();
        yield return Commands.ImatrixCommand.Create();
        yield return Commands.MergeCommand.Create();
        yield return Commands.DatasetCommand.Create();
        yield return Commands.IterateCommand.Create();
        yield return Commands.SensitivityCommand.Create();
        yield return Commands.RecipeCommand.Create();
        yield return Commands.ReportCommand.Create();
        yield return Commands.StatusCommand.Create();
        yield return Commands.TuneCommand.Create();
        yield return Commands.DemoCommand.Create();
    }
}
