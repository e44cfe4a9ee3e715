using System.Globalization;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Storage.Formats.LlamaCpp;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// What <c>logits --info FILE</c> prints about any stored logits file: its format, what the KLD read from it guarantees,
/// its shape, and its size per stored position (the file's whole size over the positions whose rows it holds).
/// </summary>
internal sealed record StoredLogitsInfo(string Path, string Format, string Accuracy, int VocabSize, int ContextSize, int TotalChunks, int StoredChunks,
    long StoredPositions, long Bytes, double BytesPerPosition, double? TailMass, double? MaxTotalVariation, double? MaxDecodedDivergence)
{
    /// <summary>Opens the file with the reader of its kind (so it is checked as every reader checks it) and describes it.</summary>
    public static StoredLogitsInfo Of(string path)
    {
        long bytes = new FileInfo(path).Length;
        switch (StoredBaselines.Detect(path))
        {
            case StoredLogitsKind.QuantizedCompact:
            {
                using var r = QuantizedBaselineReader.Open(path);
                return new(path, r.Format + " (logits --format compact)", r.Accuracy, r.VocabSize, r.ContextSize, r.TotalChunks, r.ProcessedCount,
                    r.StoredPositions, bytes, PerPosition(bytes, r.StoredPositions), r.Settings.TailMass, r.MaxTotalVariation, r.MaxDecodedDivergence);
            }
            case StoredLogitsKind.Compact:
            {
                using var r = CompactBaselineReader.Open(path);
                long positions = Positions(r);
                return new(path, CompactLayout.FormatName + " (logits --format compact-1)",
                    string.Create(CultureInfo.InvariantCulture, $"KLD under-estimated by at most ε·S per position (ε {r.TailMass:G3}, S = max − min over the tail of log(P/Q)); log P(next) exact"),
                    r.VocabSize, r.ContextSize, r.TotalChunks, r.ProcessedCount, positions, bytes, PerPosition(bytes, positions), r.TailMass, null, null);
            }
            case StoredLogitsKind.LlamaCpp:
            {
                using var r = LlamaCppKldReader.Open(path, null);
                long positions = Positions(r, lastScored: true);
                return new(path, "llama.cpp .kld (llama-perplexity --kl-divergence-base)", "uint16-quantized log-probabilities; KLD as llama-perplexity computes it",
                    r.VocabSize, r.ContextSize, r.TotalChunks, r.ProcessedCount, positions, bytes, PerPosition(bytes, positions), null, null, null);
            }
            case StoredLogitsKind.Full:
            {
                using var r = BaselineLogitsReader.Open(path);
                long positions = 0;
                for (int c = 0; c < r.TotalChunks; c++) if (r.HasChunk(c)) positions += r.ChunkLength(c);
                return new(path, $"{BaselineLayout.FormatName} float{r.Header.Precision} (logits --format full)", r.IsHalf ? "float16 logits: KLD up to float16 rounding" : "exact (float32 logits)",
                    r.VocabSize, r.ContextSize, r.TotalChunks, r.ProcessedCount, positions, bytes, PerPosition(bytes, positions), null, null, null);
            }
            case var kind:
            {
                using var r = PureHdfLogitsReader.Open(path);
                long positions = (long)r.ProcessedCount * r.ContextSize;
                return new(path, kind == StoredLogitsKind.PythonTool ? "llama-gguf-optimize HDF5 (generate_logits.py)" : $"{BaselineLayout.FormatName}, compressed", "exact (full logits)",
                    r.VocabSize, r.ContextSize, r.TotalChunks, r.ProcessedCount, positions, bytes, PerPosition(bytes, positions), null, null, null);
            }
        }
    }

    /// <param name="lastScored">The format stores only positions that have a next token (llama.cpp: n_ctx/2 … n_ctx − 2).</param>
    private static long Positions(IStoredBaseline r, bool lastScored = false)
    {
        long positions = 0;
        for (int c = 0; c < r.TotalChunks; c++)
            if (r.HasChunk(c)) positions += Math.Max(0, r.ChunkTokens(c).Length - r.FirstStoredPosition - (lastScored ? 1 : 0));
        return positions;
    }

    private static double PerPosition(long bytes, long positions) => positions == 0 ? 0 : (double)bytes / positions;
}
