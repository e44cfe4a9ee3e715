using System.CommandLine;
using System.Text.Json;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Merging;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize merge</c>: the outputs of <c>--shard K/N</c> runs into one file.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var pieces = new Argument<string[]>("pieces") { Description = "The shard outputs (baselines, comparisons or imatrices; all of one kind), in any order", Arity = ArgumentArity.OneOrMore };
        var output = SharedOptions.Output("The merged file", null);
        output.Option.Required = true;
        var overwrite = SharedOptions.Overwrite();
        var json = new JsonOption();

        var command = new Command("merge", "Combine the outputs of --shard runs into the file one run would have written") { pieces };
        output.AddTo(command);
        overwrite.AddTo(command);
        command.Options.Add(json.Option);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var result = MergeJob.Run(new MergeOptions
            {
                Output = output.Get(parse)!,
                Pieces = parse.GetValue(pieces)!,
                Overwrite = overwrite.Get(parse),
            }, ctx.Progress);
            json.Emit(parse, () => JsonSerializer.Serialize(result, JsonOutput.Options), () => Text(result));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static string Text(MergeResult r)
    {
        string range = $"chunks {r.FromChunk}..{r.ToChunk - 1}";
        string whole = r.TotalChunks is { } total
            ? r.Complete == true ? $" (all {total} chunks of the text)" : $" of {total} (not the whole text yet)"
            : "";
        return $"{r.Output}: {r.Pieces} {MergeJob.Describe(r.Kind)} pieces merged, {range}{whole}, in {r.Seconds:F1} s\n";
    }
}
