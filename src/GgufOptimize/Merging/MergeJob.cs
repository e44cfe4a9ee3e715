using System.Diagnostics;
using GgufOptimize.Common;

namespace GgufOptimize.Merging;

/// <summary>
/// <c>merge</c>: combines the outputs of <c>--shard K/N</c> runs into the file one run over the whole range would have
/// written. The kind of each piece is read from its content; pieces of different kinds, of different inputs, or whose
/// chunk ranges overlap or leave a gap are refused before anything is written.
/// </summary>
internal static class MergeJob
{
    public static MergeResult Run(MergeOptions options, IProgressSink progress)
    {
        var clock = Stopwatch.StartNew();
        if (options.Pieces.Count == 0) throw GgufOptimizeException.BadInput("merge: give the pieces to merge (the outputs of the --shard runs)");
        string output = Path.GetFullPath(options.Output);
        foreach (var p in options.Pieces)
            if (Path.GetFullPath(p) == output) throw GgufOptimizeException.BadInput($"--output '{options.Output}' is also a piece; write the merge to a new file");
        var duplicate = options.Pieces.GroupBy(Path.GetFullPath).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw GgufOptimizeException.BadInput($"merge: piece '{duplicate.First()}' is given twice");

        var kinds = options.Pieces.Select(p => (Piece: p, Kind: PieceKinds.Detect(p))).ToList();
        var other = kinds.FirstOrDefault(k => k.Kind != kinds[0].Kind);
        if (other.Piece is not null)
            throw GgufOptimizeException.BadInput($"merge: '{kinds[0].Piece}' is a {Describe(kinds[0].Kind)} but '{other.Piece}' is a {Describe(other.Kind)}; merge pieces of one kind");

        OutputPaths.EnsureWritableDirectory(options.Output, "--output");
        using var claim = OutputLock.Acquire(options.Output, "--output");
        if (File.Exists(options.Output))
        {
            if (!options.Overwrite) throw GgufOptimizeException.BadInput($"--output '{options.Output}' exists; use --overwrite to replace it");
            FileStep.Delete(options.Output);
        }

        var kind = kinds[0].Kind;
        (int From, int To, int? Total) range = kind switch
        {
            PieceKind.FullBaseline => WithTotal(BaselineMerge.Full(options.Pieces, options.Output, options.Overwrite, progress)),
            PieceKind.CompactBaseline => WithTotal(BaselineMerge.Compact(options.Pieces, options.Output, progress)),
            PieceKind.QuantizedBaseline => WithTotal(BaselineMerge.Quantized(options.Pieces, options.Output, progress)),
            PieceKind.Imatrix => WithTotal(ImatrixMerge.Run(options.Pieces, options.Output)),
            _ => WithoutTotal(ComparisonMerge.Run(options.Pieces, options.Output)),
        };
        return new MergeResult(options.Output, kind, options.Pieces.Count, range.From, range.To, range.Total, clock.Elapsed.TotalSeconds);
    }

    private static (int, int, int?) WithTotal((int From, int To, int Total) r) => (r.From, r.To, r.Total);

    // A comparison records its range, not the text's chunk count.
    private static (int, int, int?) WithoutTotal((int From, int To) range) => (range.From, range.To, null);

    public static string Describe(PieceKind kind) => kind switch
    {
        PieceKind.FullBaseline => "full baseline",
        PieceKind.CompactBaseline => "compact-1 baseline",
        PieceKind.QuantizedBaseline => "compact baseline",
        PieceKind.Comparison => "comparison",
        _ => "imatrix",
    };
}
