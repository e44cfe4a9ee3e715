using GgufOptimize.Common;
using GgufOptimize.Imatrix;

namespace GgufOptimize.Merging;

/// <summary>
/// Imatrix shards into one imatrix: sums of squares and counts add (as <c>imatrix --in-file</c> does), the chunk
/// count adds, and the calibration text is listed once. Counts are whole numbers and add exactly; the sums are
/// stored as float32, so each shard's partial sum was rounded once before this adds them (in float64) and rounds
/// again: the merged sums can differ from a single run's in the last bits of float32, never more.
/// </summary>
internal static class ImatrixMerge
{
    public static (int From, int To, int Total) Run(IReadOnlyList<string> pieces, string output)
    {
        var loaded = pieces.Select(p => (Path: p, Matrix: ImatrixFile.Load(p))).ToList();
        foreach (var (path, m) in loaded)
            if (m.Coverage is null)
                throw GgufOptimizeException.BadInput($"merge: imatrix '{path}' records no chunk range (it was not made by imatrix --shard, or it already covers the whole text); to add imatrices without these checks use imatrix --in-file");
        var (firstPath, first) = loaded[0];
        foreach (var (path, m) in loaded.Skip(1))
        {
            string? diff = m.Coverage!.InputDifference(first.Coverage!)
                ?? (m.ChunkSize != first.ChunkSize ? $"chunk size {m.ChunkSize} vs {first.ChunkSize}" : null);
            if (diff is not null)
                throw GgufOptimizeException.BadInput($"merge: '{path}' and '{firstPath}' come from different inputs ({diff}); merge only the shards of one imatrix run");
        }
        var (from, to) = PieceRanges.Check(loaded.Select(l => new PieceRanges.Run(l.Path, l.Matrix.Coverage!.From, l.Matrix.Coverage.To)).ToList());

        var merged = new ImportanceMatrix();
        foreach (var (_, m) in loaded.OrderBy(l => l.Matrix.Coverage!.From)) merged.Merge(m);
        // One text, named once, as a single run names it.
        var datasets = merged.Datasets.Distinct().ToList();
        merged.Datasets.Clear();
        merged.Datasets.AddRange(datasets);
        merged.Coverage = first.Coverage! with { From = from, To = to };
        ImatrixFile.Save(merged, output, ImatrixFileFormat.Gguf);
        return (from, to, first.Coverage!.TotalChunks);
    }
}
