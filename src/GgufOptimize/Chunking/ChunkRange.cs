using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>
/// The chunks [From, To) a command works on, checked against the chunk count. Errors name the caller's own options
/// (<c>iterate</c> limits the range with <c>--eval-chunks</c>, not <c>--to-chunk</c>).
/// </summary>
internal readonly record struct ChunkRange(int From, int To)
{
    public const string FromOption = "--from-chunk";
    public const string ToOption = "--to-chunk";

    public int Count => To - From;

    public static ChunkRange Resolve(int from, int? to, int chunkCount, string fromOption = FromOption, string toOption = ToOption)
    {
        int end = to ?? chunkCount;
        if (from < 0) throw GgufOptimizeException.BadInput($"{fromOption} must be ≥ 0 (got {from})");
        if (from >= chunkCount) throw GgufOptimizeException.BadInput($"{fromOption} {from} is past the last chunk (the dataset has {chunkCount} chunks)");
        if (end > chunkCount) throw GgufOptimizeException.BadInput($"{toOption} {end} is past the end (the dataset has {chunkCount} chunks)");
        if (end <= from) throw GgufOptimizeException.BadInput($"{toOption} {end} must be greater than {fromOption} {from}");
        return new ChunkRange(from, end);
    }
}
