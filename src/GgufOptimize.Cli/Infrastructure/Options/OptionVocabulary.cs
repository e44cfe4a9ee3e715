using GgufOptimize.Engine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>
/// The shared option vocabulary of every command (docs/cli-conventions.md lists it). llama.cpp's spellings are
/// accepted where they differ (-c/--ctx-size, -b, -ub, -t). The model/context engine options (--gpu-layers, --flash-attn,
/// --rope-freq-base, ...) are defined once in the library's <see cref="EngineOptionTable"/> (their spelling, default
/// and value check); <see cref="Engine"/> gives their words here, and <see cref="EngineOptions"/> adds them to commands.
/// </summary>
internal static class OptionVocabulary
{
    public static readonly OptionSpec Model = new("--model", ["-m"], "The GGUF model") { SharedDescription = false };
    public static readonly OptionSpec Dataset = new("--dataset", ["-d"], "UTF-8 text file") { SharedDescription = false };
    public static readonly OptionSpec Output = new("--output", ["-o"], "Where the result is written") { SharedDescription = false };

    public static readonly OptionSpec ContextSize = new("--context-size", ["-c", "--ctx-size"],
        "Tokens per chunk; 0 = the model's training context (at most 4096 for logits and kld, 512 for imatrix)");
    public static readonly OptionSpec BatchSize = new("--batch-size", ["-b"],
        "Logical batch: tokens per llama_decode call (0 = the context size, but at most what keeps one batch's logits within 256 MiB and at least 512: 512 for a 128k vocabulary)");
    public static readonly OptionSpec UBatchSize = new("--ubatch-size", ["-ub"],
        "Physical batch: tokens per compute step inside a decode call (0 = the batch size)");
    public static readonly OptionSpec Threads = new("--threads", ["-t"],
        $"CPU threads (0 = automatic: a model runs on one per {Hardware.ParametersPerThread / 1_000_000} M weights, at most the {Hardware.PhysicalCores} physical cores here; quantize uses all of them)");

    public static readonly OptionSpec FromChunk = new("--from-chunk", [], "First chunk of the dataset to process (0-based)");
    public static readonly OptionSpec ToChunk = new("--to-chunk", [], "Stop before this chunk (default: the end of the dataset)");

    public static readonly OptionSpec Shard = new("--shard", [],
        "K/N: work only on the K-th of N balanced pieces of the chunk range (K from 0, as $SLURM_ARRAY_TASK_ID and $JOB_COMPLETION_INDEX count); combine the pieces with merge");

    public static readonly OptionSpec Overwrite = new("--overwrite", [],
        "Replace an existing output made from other inputs (refused without it); quantize and imatrix also redo a finished output, while logits and kld keep and complete one made from the same inputs (delete it to recompute)",
        Legacy: ["--clobber"]);

    public static readonly OptionSpec Json = new("--json", [],
        "Print the result as JSON on stdout instead of text; --json FILE.json (or - for stdout) writes it to that file and prints the text as usual");

    /// <summary>The words of one engine option of <see cref="EngineOptionTable"/>.</summary>
    public static OptionSpec Engine(EngineOption option) => new(option.Name, option.Aliases, $"{option.Description} (default: {option.Default})");

    /// <summary>The specs commands share by name, for commands whose options are generated (iterate's plan keys).</summary>
    public static readonly IReadOnlyDictionary<string, OptionSpec> ByName =
        new[] { Model, Dataset, Output, ContextSize, BatchSize, UBatchSize, Threads, FromChunk, ToChunk, Shard, Overwrite, Json }
            .Concat(EngineOptionTable.All.Select(Engine))
            .ToDictionary(s => s.Name);
}
