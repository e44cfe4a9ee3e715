using GgufOptimize.Common;
using LLama.Native;

namespace GgufOptimize.Engine;

/// <summary>
/// A llama.cpp context that evaluates one chunk at a time from an empty KV cache and hands back the
/// logits of every position.
/// </summary>
/// <summary>Receives the logits of positions [firstPosition, firstPosition + n) of the chunk being evaluated.</summary>
internal delegate void LogitsBatchHandler(int firstPosition, ReadOnlySpan<float> logits);

internal sealed class LlamaEvaluator : IDisposable
{
    private readonly LlamaModel _model;
    private readonly SafeLLamaContextHandle _context;
    private readonly LLamaBatch _batch = new();
    private readonly int _batchSize;

    public EvaluatorOptions Options { get; }
    /// <summary>The CPU threads llama.cpp decodes with (the option, or the default chosen for this model).</summary>
    public int Threads { get; }

    /// <summary>
    /// Every setting that can change the logits (see <see cref="EngineParams.Describe"/>: batch sizes, attention,
    /// cache types, RoPE, GPU placement, the native library), recorded with results.
    /// </summary>
    public string EngineSettings { get; }

    /// <summary>The logical and physical batch sizes llama.cpp's context reports (read back, not what was asked).</summary>
    internal (int Batch, int UBatch) NativeBatchSizes => ((int)_context.BatchSize, (int)_context.UBatchSize);

    public LlamaEvaluator(LlamaModel model, EvaluatorOptions options) : this(model, options, IntPtr.Zero, IntPtr.Zero) { }

    /// <summary><paramref name="evalCallback"/> is a native <c>ggml_backend_sched_eval_callback</c> (imatrix capture).</summary>
    internal LlamaEvaluator(LlamaModel model, EvaluatorOptions options, IntPtr evalCallback, IntPtr evalCallbackUserData)
    {
        if (options.ContextSize <= 0) throw GgufOptimizeException.BadInput($"--context-size must be positive (got {options.ContextSize})");
        _model = model;
        Options = options;
        _batchSize = options.EffectiveBatch(model.VocabSize);
        Threads = options.ThreadsFor(model);
        var p = ContextParams(options, model.Settings, Threads, model.VocabSize);
        p.cb_eval = evalCallback;
        p.cb_eval_user_data = evalCallbackUserData;
        EngineSettings = EngineParams.Describe(p, model.Settings);
        NativeRuntime.ClearNativeErrors();
        try
        {
            _context = SafeLLamaContextHandle.Create(model.Handle, p);
        }
        catch (LLama.Exceptions.RuntimeError e)
        {
            throw GgufOptimizeException.Runtime($"llama.cpp could not create a context of {options.ContextSize} tokens for '{model.Path}': {NativeRuntime.LastNativeError()}", e);
        }
        // LLamaSharp hands back an invalid handle (no exception) when llama_init_from_model returns NULL; decoding on
        // it would crash the process, so it is refused here.
        if (_context.IsInvalid) throw RefusedContext(model, options);
    }

    /// <summary>
    /// llama.cpp refuses a context for settings the model cannot use (a quantized K cache whose block size does not
    /// divide the head size, a quantized V cache without flash attention): those are bad input naming the options.
    /// </summary>
    private static GgufOptimizeException RefusedContext(LlamaModel model, EvaluatorOptions options)
    {
        string why = NativeRuntime.LastNativeError();
        bool settings = why.Contains("cache type", StringComparison.OrdinalIgnoreCase) || why.Contains("flash_attn", StringComparison.OrdinalIgnoreCase);
        return settings
            ? GgufOptimizeException.BadInput($"model '{model.Path}' cannot run with {EngineOptionTable.CacheTypeK.Name} {EngineOptionTable.CacheTypeK.Show(model.Settings)}, " +
                $"{EngineOptionTable.CacheTypeV.Name} {EngineOptionTable.CacheTypeV.Show(model.Settings)}, {EngineOptionTable.FlashAttn.Name} {EngineOptionTable.FlashAttn.Show(model.Settings)}: {why}")
            : GgufOptimizeException.Runtime($"llama.cpp could not create a context of {options.ContextSize} tokens for '{model.Path}': {why}");
    }

    /// <summary>The context parameters for <paramref name="options"/> and the model's <paramref name="engine"/> settings.</summary>
    internal static LLamaContextParams ContextParams(EvaluatorOptions options, EngineSettings engine, int threads, int vocabSize)
    {
        var p = LLamaContextParams.Default();
        p.n_ctx = (uint)options.ContextSize;
        p.n_batch = (uint)options.EffectiveBatch(vocabSize);
        p.n_ubatch = (uint)options.EffectiveUBatch(vocabSize);
        p.n_seq_max = 1;
        p.n_threads = threads;
        p.n_threads_batch = threads;
        p.embeddings = false;
        p.no_perf = true;
        EngineParams.ApplyTo(engine, ref p);
        return p;
    }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> as one sequence starting at position 0 with an empty cache and
    /// copies the logits of every position into <paramref name="logits"/> (tokens.Length × n_vocab, row-major).
    /// </summary>
    /// <param name="firstWithLogits">Rows before this position are neither computed nor written (see the handler overload).</param>
    public void EvaluateChunk(ReadOnlySpan<int> tokens, Span<float> logits, int firstWithLogits = 0)
    {
        int nVocab = _model.VocabSize;
        if (logits.Length < tokens.Length * nVocab) throw new ArgumentException("logits buffer too small");
        unsafe
        {
            fixed (float* dest = logits)
            {
                float* d = dest;
                int len = logits.Length;
                EvaluateChunk(tokens, (first, batch) => batch.CopyTo(new Span<float>(d + (long)first * nVocab, len - first * nVocab)), firstWithLogits);
            }
        }
    }

    /// <summary>
    /// Evaluates one chunk and hands each decode batch's logits to <paramref name="onLogits"/> straight from
    /// llama.cpp's output buffer (first position, span of n × n_vocab floats), so huge chunks need no extra copy.
    /// </summary>
    /// <param name="firstWithLogits">
    /// Positions before this one request no logits, so llama.cpp skips their output rows (the output matrix is a large
    /// share of a small model's work); the handler then sees only rows from this position on.
    /// </param>
    public void EvaluateChunk(ReadOnlySpan<int> tokens, LogitsBatchHandler onLogits, int firstWithLogits = 0)
    {
        if (tokens.Length > Options.ContextSize) throw new ArgumentException($"chunk of {tokens.Length} tokens exceeds the context size {Options.ContextSize}");
        if (tokens.IsEmpty) _context.MemoryClear();
        for (int start = 0; start < tokens.Length; start += _batchSize)
        {
            var rows = DecodeBatch(tokens, start, firstWithLogits, out int firstOut);
            if (!rows.IsEmpty) onLogits(firstOut, rows);
        }
    }

    /// <summary>Positions per decode call: chunks are decoded in batches starting at multiples of this.</summary>
    public int BatchSize => _batchSize;

    /// <summary>
    /// One step of <see cref="EvaluateChunk(ReadOnlySpan{int}, LogitsBatchHandler, int)"/>, for a caller that runs
    /// two models in step: decodes the batch of <paramref name="tokens"/> at <paramref name="start"/> (a multiple of
    /// <see cref="BatchSize"/>; 0 empties the cache, later ones follow the batch before) and returns the rows of
    /// positions from <paramref name="firstOut"/> to the batch's end, straight from llama.cpp's output buffer (valid
    /// until this context decodes again; empty when the batch requests none).
    /// </summary>
    public ReadOnlySpan<float> DecodeBatch(ReadOnlySpan<int> tokens, int start, int firstWithLogits, out int firstOut)
    {
        int nVocab = _model.VocabSize;
        if (tokens.Length > Options.ContextSize) throw new ArgumentException($"chunk of {tokens.Length} tokens exceeds the context size {Options.ContextSize}");
        if (start % _batchSize != 0 || (uint)start >= (uint)tokens.Length) throw new ArgumentOutOfRangeException(nameof(start));
        if (start == 0) _context.MemoryClear();
        int n = Math.Min(_batchSize, tokens.Length - start);
        _batch.Clear();
        for (int i = 0; i < n; i++)
            _batch.Add((LLamaToken)tokens[start + i], (LLamaPos)(start + i), LLamaSeqId.Zero, start + i >= firstWithLogits);
        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok)
            throw GgufOptimizeException.Runtime($"llama_decode failed ({result}) at position {start}: {NativeRuntime.LastNativeError()}");
        // llama.cpp packs the requested rows in batch order: the last `outputs` positions of this batch.
        firstOut = Math.Max(start, firstWithLogits);
        int outputs = start + n - firstOut;
        return outputs > 0 ? _context.GetLogits(outputs)[..(outputs * nVocab)] : [];
    }

    /// <summary>Evaluates without copying logits out: the bare decode that benchmarks compare against.</summary>
    /// <param name="firstWithLogits">With <paramref name="allLogits"/>, positions before this request none (llama-perplexity asks only for the scored second half).</param>
    public void DecodeOnly(ReadOnlySpan<int> tokens, bool allLogits = true, int firstWithLogits = 0)
    {
        _context.MemoryClear();
        for (int start = 0; start < tokens.Length; start += _batchSize)
        {
            int n = Math.Min(_batchSize, tokens.Length - start);
            _batch.Clear();
            for (int i = 0; i < n; i++)
                _batch.Add((LLamaToken)tokens[start + i], (LLamaPos)(start + i), LLamaSeqId.Zero, allLogits ? start + i >= firstWithLogits : start + i == tokens.Length - 1);
            var result = _context.Decode(_batch);
            if (result != DecodeResult.Ok)
                throw GgufOptimizeException.Runtime($"llama_decode failed ({result}) at position {start}: {NativeRuntime.LastNativeError()}");
        }
    }

    /// <summary>Decodes one more token after what is in the cache (for generation); returns its logits.</summary>
    public ReadOnlySpan<float> DecodeNext(int token, int position)
    {
        if (position == 0) _context.MemoryClear();
        _batch.Clear();
        _batch.Add((LLamaToken)token, (LLamaPos)position, LLamaSeqId.Zero, true);
        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok)
            throw GgufOptimizeException.Runtime($"llama_decode failed ({result}) at position {position}: {NativeRuntime.LastNativeError()}");
        return _context.GetLogitsIth(0);
    }

    public void Dispose()
    {
        _context.Dispose();
    }
}
