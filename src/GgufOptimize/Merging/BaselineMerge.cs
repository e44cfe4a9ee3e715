using System.Globalization;
using System.Numerics.Tensors;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.Compact;

namespace GgufOptimize.Merging;

/// <summary>
/// Baseline shards into one baseline. Each shard's file has the whole text's layout with only its own chunks flagged
/// done, so the merge writes every piece's chunks into a file made exactly as <c>logits</c> makes one: the result is
/// byte for byte the file a single run over the same range writes.
/// </summary>
internal static class BaselineMerge
{
    public static (int From, int To, int Total) Full(IReadOnlyList<string> pieces, string output, bool overwrite, IProgressSink progress)
    {
        var readers = new List<BaselineLogitsReader>();
        try
        {
            foreach (var p in pieces) readers.Add(BaselineLogitsReader.Open(p));
            var header = readers[0].Header;
            foreach (var r in readers.Skip(1)) CheckSameInputs(readers[0].Path, header, r.Path, r.Header);
            var (from, to) = PieceRanges.Check(readers.SelectMany(r => Runs(r.Path, r.TotalChunks, r.HasChunk)).ToList());

            var plan = new StoredChunkTokens(header.ContextSize, header.TotalChunks, readers[0].ChunkTokens);
            using var file = BaselineLogitsFile.OpenOrCreate(output, header, plan, overwrite, progress);
            float[] widened = [];
            progress.Start("merge", to - from);
            int done = 0;
            foreach (var r in readers)
                for (int c = 0; c < r.TotalChunks; c++)
                {
                    if (!r.HasChunk(c)) continue;
                    if (!file.IsProcessed(c))
                    {
                        if (r.IsHalf)
                        {
                            // float16 → float32 → float16 is exact, so the stored halves come back unchanged.
                            var half = r.ChunkLogitsHalf(c);
                            if (widened.Length < half.Length) widened = new float[half.Length];
                            TensorPrimitives.ConvertToSingle(half, widened.AsSpan(0, half.Length));
                            file.WriteLogits(c, 0, widened.AsSpan(0, half.Length));
                        }
                        else file.WriteLogits(c, 0, r.ChunkLogits(c));
                        file.MarkProcessed(c);
                    }
                    progress.Report(++done);
                }
            progress.Finish();
            if (!file.Complete(from, to)) throw new InvalidOperationException("merged baseline is missing chunks after copying every piece");
            return (from, to, header.TotalChunks);
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    public static (int From, int To, int Total) Compact(IReadOnlyList<string> pieces, string output, IProgressSink progress)
    {
        var chunk = new CompactChunk();
        return ThroughLog(pieces, output, progress, CompactBaselineReader.Open,
            (first, r) =>
            {
                if (r.TailMass != first.TailMass)
                    throw GgufOptimizeException.BadInput($"merge: '{first.Path}' has tail mass {first.TailMass.ToString("R", CultureInfo.InvariantCulture)} and '{r.Path}' {r.TailMass.ToString("R", CultureInfo.InvariantCulture)}; merge pieces of one logits run");
            },
            (r, c, log) =>
            {
                r.ReadChunk(c, chunk);
                log.Append(c, chunk);
            },
            (first, plan, log) => CompactBaselineFile.Build(output, first.Header, first.TailMass, plan, log));
    }

    /// <summary>Compact-2 pieces: their encoded chunks are copied as they are (with each chunk's τ and κ), so the bound holds unchanged.</summary>
    public static (int From, int To, int Total) Quantized(IReadOnlyList<string> pieces, string output, IProgressSink progress) =>
        ThroughLog(pieces, output, progress, QuantizedBaselineReader.Open,
            (first, r) =>
            {
                if (r.Settings != first.Settings)
                    throw GgufOptimizeException.BadInput($"merge: '{first.Path}' is encoded with {first.Settings.Describe()} and '{r.Path}' with {r.Settings.Describe()}; merge pieces of one logits run");
            },
            (r, c, log) => log.Append(c, r.Record(c).ToBytes()),
            (first, plan, log) => QuantizedBaselineFile.Build(output, first.Header, first.Settings, plan, log));

    /// <summary>
    /// The same path as <c>logits --format compact</c>: every piece's chunks go into a working log (under a temporary
    /// name, removed afterwards), and the HDF5 file is built from it at once.
    /// </summary>
    /// <param name="checkSameEncoding">Refuses a piece encoded otherwise than the first.</param>
    /// <param name="copyChunk">Appends one chunk of a piece to the log as the writer's record.</param>
    /// <param name="build">Builds the file from the first piece's settings and the log.</param>
    private static (int From, int To, int Total) ThroughLog<TReader>(IReadOnlyList<string> pieces, string output, IProgressSink progress,
        Func<string, TReader> open, Action<TReader, TReader> checkSameEncoding, Action<TReader, int, CompactLog> copyChunk,
        Action<TReader, IChunkSource, CompactLog> build) where TReader : IStoredBaseline
    {
        var readers = new List<TReader>();
        try
        {
            foreach (var p in pieces) readers.Add(open(p));
            var first = readers[0];
            var header = HeaderOf(first);
            foreach (var r in readers.Skip(1))
            {
                CheckSameInputs(first.Path, header, r.Path, HeaderOf(r));
                checkSameEncoding(first, r);
            }
            var (from, to) = PieceRanges.Check(readers.SelectMany(r => Runs(r.Path, r.TotalChunks, r.HasChunk)).ToList());
            string logPath = AtomicFile.TempName(output);
            try
            {
                using (var log = CompactLog.Create(logPath, "merge"))
                {
                    progress.Start("merge", to - from);
                    int done = 0;
                    foreach (var r in readers)
                        for (int c = 0; c < r.TotalChunks; c++)
                        {
                            if (!r.HasChunk(c)) continue;
                            copyChunk(r, c, log);
                            progress.Report(++done);
                        }
                    progress.Finish();
                    build(first, new StoredChunkTokens(header.ContextSize, header.TotalChunks, first.ChunkTokens), log);
                }
            }
            finally
            {
                AtomicFile.TryDelete(logPath);
            }
            return (from, to, header.TotalChunks);
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    /// <summary>Our compact files always record their provenance (only foreign formats lack one).</summary>
    private static BaselineHeader HeaderOf(IStoredBaseline piece) =>
        piece.Header ?? throw new InvalidOperationException($"compact baseline '{piece.Path}' has no provenance header");

    private static IEnumerable<PieceRanges.Run> Runs(string piece, int total, Func<int, bool> has)
    {
        var runs = PieceRanges.RunsOf(piece, Enumerable.Range(0, total).Where(has)).ToList();
        if (runs.Count == 0) throw GgufOptimizeException.BadInput($"merge: piece '{piece}' holds no finished chunk");
        return runs;
    }

    /// <summary>Pieces of one run agree on everything that made their logits, engine settings included.</summary>
    private static void CheckSameInputs(string firstPath, BaselineHeader first, string path, BaselineHeader header)
    {
        string? diff = header.Difference(first);
        if (diff is null && header.Engine != first.Engine) diff = $"engine settings '{header.Engine ?? "unrecorded"}', not '{first.Engine ?? "unrecorded"}'";
        if (diff is not null)
            throw GgufOptimizeException.BadInput($"merge: '{path}' and '{firstPath}' come from different inputs ('{path}' has {diff}); merge only the shards of one run");
    }
}
