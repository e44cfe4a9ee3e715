namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Names inside a compact baseline file (HDF5, every dataset contiguous). Besides our usual provenance attributes,
/// tokens and chunk_lengths, it holds per position p of chunk c (row-major [total_chunks, n_ctx]):
/// top_count (tokens stored), tail_mass (P_tail as float32, NaN for a non-finite baseline row), log_norm (float64
/// max + log Σ e^(x − max) of the row) and next_logit (the logit of tokens[c, p+1], NaN at a chunk's last position);
/// and for every stored token, position after position, top_ids (int32) and top_logits (the model's float32 logit)
/// starting at entry_start[c] (−1 for absent chunks). log P_i = top_logits − log_norm, in nats.
/// </summary>
internal static class CompactLayout
{
    public const string FormatName = "gguf-optimize-compact-1";
    public const string AttrTailMass = "tail_mass";
    public const string AttrEncoding = "encoding";
    public const string Encoding =
        "per position: the most probable tokens in descending probability (ties: lower id) until their total probability reaches 1 - tail_mass, " +
        "their float32 logits, the remaining tail mass, the row's log normalizer (log P = logit - log_norm, natural log), and the logit of the next token";

    public const string ProcessedChunks = "/processed_chunks";
    public const string TopCount = "/top_count";
    public const string TailMass = "/tail_mass";
    public const string LogNorm = "/log_norm";
    public const string NextLogit = "/next_logit";
    public const string EntryStart = "/entry_start";
    public const string TopIds = "/top_ids";
    public const string TopLogits = "/top_logits";
}
