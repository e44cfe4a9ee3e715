namespace GgufOptimize.Storage.Formats.LlamaCpp;

/// <summary>
/// The file llama-perplexity writes with <c>--kl-divergence-base</c> (tools/perplexity/perplexity.cpp), little-endian:
/// "_logits_", n_ctx (int32), n_vocab (int32), n_chunk (int32), the n_chunk·n_ctx evaluation tokens (int32, as
/// tokenized, before the per-chunk BOS substitution), then for every chunk the positions n_ctx/2 … n_ctx−2, each as
/// float scale, float min_log_prob and n_vocab uint16 v_i (log P_i = scale·v_i + min_log_prob), padded with one uint16
/// to an even count. A chunk is tokens [c·n_ctx, (c+1)·n_ctx) with its first token replaced by BOS when the model adds
/// BOS; position j predicts token j+1.
/// </summary>
internal readonly record struct LlamaCppKldLayout(int ContextSize, int VocabSize, int ChunkCount)
{
    public static ReadOnlySpan<byte> Magic => "_logits_"u8;

    /// <summary>First stored position of every chunk (llama-perplexity scores the second half).</summary>
    public int FirstPosition => ContextSize / 2;
    public int RowsPerChunk => ContextSize - 1 - FirstPosition;
    /// <summary>uint16 per stored row: two floats, n_vocab values, padding to even.</summary>
    public int RowUInt16s => 2 * ((VocabSize + 1) / 2) + 4;
    public long RowBytes => RowUInt16s * 2L;
    /// <summary>After the 8-byte magic and three int32 (n_ctx, n_vocab, n_chunk).</summary>
    public const long TokensOffset = 20;
    public long DataOffset => TokensOffset + (long)ChunkCount * ContextSize * 4;
    public long ChunkBytes => RowsPerChunk * RowBytes;
    public long FileBytes => DataOffset + ChunkCount * ChunkBytes;
    public long RowOffset(int chunk, int position) => DataOffset + chunk * ChunkBytes + (position - FirstPosition) * RowBytes;
}
