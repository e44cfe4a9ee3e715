namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Names inside a quantized compact baseline (compact-2; HDF5, every dataset contiguous). Besides our provenance
/// attributes, tokens and chunk_lengths, it holds per chunk c: processed_chunks, chunk_start/chunk_bytes (where its
/// encoded blob lies in <c>encoded</c>, a uint8 dataset; blob layout in <see cref="QuantizedChunk"/>), and the τ and κ
/// the encoder measured on its rows, and a checksum of the blob. Root attributes give the settings (ε, ρ, Δ) and the largest τ and κ of the file,
/// which with S make the per-position bound |KLD − KLD̂| ≤ (ε + τ)·S + κ.
/// </summary>
internal static class QuantizedLayout
{
    public const string FormatName = "gguf-optimize-compact-2";
    /// <summary>compact-2's layout with a second knee in the code mapping (attributes second_knee, second_log_step): a new name so a reader that knows only compact-2 refuses it instead of misreading its codes.</summary>
    public const string FormatName3 = "gguf-optimize-compact-3";
    public const string AttrSecondKnee = "second_knee";
    public const string AttrSecondLogStep = "second_log_step";
    /// <summary>compact-3 with a fine tier (attributes fine_* and wide_share) and a tier byte after every sparse or every-code row's D.</summary>
    public const string FormatName4 = "gguf-optimize-compact-4";
    public const string AttrFinePrefix = "fine_";
    public const string AttrWideShare = "wide_share";

    public static bool IsOurs(string? format) => format is FormatName or FormatName3 or FormatName4;
    public static string FormatOf(QuantizedRowSettings settings) => settings.HasTiers ? FormatName4 : settings.HasSecondKnee ? FormatName3 : FormatName;
    public const string AttrTailMass = "tail_mass";
    public const string AttrProbabilityStep = "probability_step";
    public const string AttrLogStep = "log_step";
    public const string AttrTotalVariation = "max_total_variation";
    public const string AttrDivergence = "max_decoded_divergence";
    public const string AttrEncoding = "encoding";
    public const string AttrBound = "error_bound";
    public const string Encoding =
        "per position: the most probable tokens until all but at most tail_mass of the probability is kept, their probabilities quantized " +
        "(absolute step probability_step above probability_step/log_step, log step log_step below; compact-3: cells of second_log_step below second_knee), ids ascending as varint gaps, codes as zig-zag varints, " +
        "exact float64 log normalizer and tail mass, float32 next-token and smallest logit, int32 top token; each chunk one Brotli blob in 'encoded'; " +
        "compact-4: a row keeping at least wide_share of the vocabulary, in a chunk where such rows are at least half of the rows so far, is coded with the fine_* settings, every sparse or every-code row ends with its tier byte, and each chunk is three Brotli streams (row parts, ids, codes)";
    public const string Bound =
        "|KLD - KLD_decoded| <= (tail_mass + max_total_variation) * S + max_decoded_divergence per position, S = max - min over the vocabulary of (baseline logit - target logit); compact-4: tail_mass the larger of the two tiers'";

    public const string ProcessedChunks = "/processed_chunks";
    public const string ChunkStart = "/chunk_start";
    public const string ChunkBytes = "/chunk_bytes";
    public const string ChunkTotalVariation = "/chunk_total_variation";
    public const string ChunkDivergence = "/chunk_decoded_divergence";
    public const string Encoded = "/encoded";
    /// <summary>Per chunk, the first 8 bytes of the SHA-256 of its blob (little-endian int64): a changed byte anywhere is caught when the file is opened.</summary>
    public const string ChunkChecksum = "/chunk_checksum";

    public static long Checksum(ReadOnlySpan<byte> blob) =>
        System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(System.Security.Cryptography.SHA256.HashData(blob));
}
