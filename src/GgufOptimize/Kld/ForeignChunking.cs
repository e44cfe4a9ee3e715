using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Storage.Formats.LlamaCpp;
using GgufOptimize.Storage.Formats.PythonTool;

namespace GgufOptimize.Kld;

/// <summary>
/// The chunks of foreign baselines, rebuilt with the evaluating model's tokenizer (the files' readers take ready
/// chunks and never run a model): llama-gguf-optimize's rule, and the check of a .kld file's stored tokens.
/// </summary>
internal static class ForeignChunking
{
    public static AddedSpecials Specials(LlamaModel model) => new(model.AddBos ? model.Bos : null, model.AddEos ? model.Eos : null);

    /// <summary>generate_logits.py's chunks of <paramref name="datasetPath"/> (see <see cref="PythonToolChunks"/>).</summary>
    public static PythonToolChunks PythonTool(LlamaModel model, string datasetPath, int contextSize)
    {
        // Read with our own GGUF reader: the flags come straight from the file, as llama-cpp-python reports them.
        var metadata = GgufFile.Read(model.Path).Metadata;
        bool requireBos = metadata.GetBool("tokenizer.ggml.add_bos_token") ?? true;
        bool requireEos = metadata.GetBool("tokenizer.ggml.add_eos_token") ?? true;
        int? bos = requireBos ? model.Bos : null;
        int? eos = requireEos ? model.Eos : null;
        string cache = datasetPath + ".tokens.npy";
        if (File.Exists(cache)) return new PythonToolChunks(NpyTokens.Read(cache), contextSize, bos, eos, Path.GetFileName(cache));

        var corpus = TextCorpus.Load(datasetPath);
        var added = Specials(model);
        var stream = PythonToolChunks.Stream(model.Tokenize(corpus.Text), added.Bos, added.Eos);
        return new PythonToolChunks(stream, contextSize, bos, eos, $"'{Path.GetFileName(datasetPath)}' re-tokenized");
    }

    /// <summary>With --dataset next to a .kld baseline, its stored tokens must be the dataset's, tokenized as llama-perplexity does.</summary>
    public static void CheckKldTokens(LlamaCppKldReader kld, string dataset, LlamaModel model)
    {
        var corpus = TextCorpus.Load(dataset);
        var chunks = LlamaCppChunks.FromText(model.Tokenize(corpus.Text), kld.ContextSize, model.AddBos, model.Bos, false, kld.TotalChunks);
        if (chunks.ChunkCount != kld.TotalChunks || !chunks.Tokens.SequenceEqual(kld.StoredTokens))
            throw GgufOptimizeException.BadInput($"baseline '{kld.Path}' holds other tokens than '{dataset}' tokenized by the target model (another text, or another tokenizer)");
    }
}
