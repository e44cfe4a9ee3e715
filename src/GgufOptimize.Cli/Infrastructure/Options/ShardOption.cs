using System.CommandLine;
using GgufOptimize.Chunking;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>--shard K/N of <c>logits</c>, <c>kld</c> and <c>imatrix</c>: which piece of the --from-chunk/--to-chunk range to work on.</summary>
internal sealed class ShardOption
{
    public Option<string?> Option { get; } = new(OptionVocabulary.Shard.Name) { Description = OptionVocabulary.Shard.Description, HelpName = "K/N" };

    /// <summary>Null without --shard; a malformed value is a bad-input error naming --shard (exit 2).</summary>
    public ChunkShard? Read(ParseResult parse) => parse.GetValue(Option) is { } text ? ChunkShard.Parse(text) : null;
}
