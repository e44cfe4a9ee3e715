namespace GgufOptimize.Storage;

/// <summary>
/// Names inside a baseline logits file. The bulk layout is the one llama-gguf-optimize's generate_logits.py
/// writes (so its scripts read ours); the rest is our provenance.
/// </summary>
internal static class BaselineLayout
{
    public const string FormatName = "gguf-optimize-logits-1";

    // The Python tool's datasets and attributes.
    public const string Logits = "/logits";
    public const string ProcessedChunks = "/processed_chunks";
    public const string ChunkIndex = "/chunk_index";
    public const string FreedChunks = "/freed_chunks";
    public const string AttrFormat = "format";
    public const string AttrContext = "n_ctx";
    public const string AttrVocab = "n_vocab";
    public const string AttrTotalChunks = "total_chunks";

    // Ours.
    public const string Tokens = "/tokens";
    public const string ChunkLengths = "/chunk_lengths";
    public const string AttrPrecision = "precision";
    public const string AttrModelFile = "model_file";
    public const string AttrModelSize = "model_size";
    public const string AttrModelSha = "model_sha256";
    public const string AttrDatasetFile = "dataset_file";
    public const string AttrDatasetSha = "dataset_sha256";
    public const string AttrTokenizerSha = "tokenizer_sha256";
    public const string AttrEngine = "engine";
    public const string AttrAddBos = "add_bos";
    public const string AttrAddEos = "add_eos";
    public const string AttrChunkRule = "chunk_rule";
    /// <summary>Present when only this many chunks' logits are kept (<c>kld --keep</c>); chunk_index maps chunk → slot.</summary>
    public const string AttrSlots = "slots";

    public const string ChunkRule =
        "text tokenized once without specials; each chunk = [BOS if add_bos] + next (n_ctx - specials) text tokens + [EOS if add_eos]; last chunk may be shorter; rows past a chunk's length are zero";

    public static string PartialPath(string path) => path + ".partial";
}
