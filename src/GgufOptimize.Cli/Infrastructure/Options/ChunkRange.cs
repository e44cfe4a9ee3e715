using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>--from-chunk/--to-chunk: the half-open range of dataset chunks a command works on.</summary>
internal sealed class ChunkRange
{
    public Option<int> From { get; } = SharedOptions.Int(OptionVocabulary.FromChunk, 0);
    public Option<int?> To { get; } = new(OptionVocabulary.ToChunk.Name) { Description = OptionVocabulary.ToChunk.Description, HelpName = "N" };

    public void AddTo(Command command)
    {
        command.Options.Add(From);
        command.Options.Add(To);
    }
}
