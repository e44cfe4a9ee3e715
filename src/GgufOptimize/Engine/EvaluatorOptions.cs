namespace GgufOptimize.Engine;

/// <summary>How a llama.cpp context is set up for scoring fixed-length chunks.</summary>
internal sealed record EvaluatorOptions
{
    /// <summary>The longest chunk evaluated (tokens). llama.cpp may pad its own context above this.</summary>
    public required int ContextSize { get; init; }
    /// <summary>Logical batch per decode call; 0 = the context size, capped by <see cref="DefaultBatch"/>.</summary>
    public int BatchSize { get; init; }
    /// <summary>Physical micro-batch; 0 = the batch size.</summary>
    public int UBatchSize { get; init; }
    /// <summary>CPU threads; 0 = chosen from the model's size (<see cref="Hardware.DefaultThreads(long)"/>).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// What one batch's logits may take when no batch size is given. llama.cpp keeps an output buffer of
    /// n_batch × n_vocab floats and a compute buffer of n_ubatch × n_vocab more: with a 128k vocabulary and the whole
    /// 4096-token context in one batch that was 4.2 GB before a single logit was stored, and its first touch cost tens of
    /// seconds. 256 MiB keeps every vocabulary up to 65k tokens at its old default for contexts up to 1024 (32k: up to
    /// 2048), where the batch size makes no measurable difference to speed.
    /// </summary>
    internal const long DefaultBatchLogitsBytes = 256L << 20;
    /// <summary>The default batch is never cut below llama.cpp's default micro-batch, 512 tokens.</summary>
    internal const int MinimumDefaultBatch = 512;

    /// <summary>
    /// The default logical batch for a vocabulary: the largest power of two whose logits fit in
    /// <see cref="DefaultBatchLogitsBytes"/>, at least <see cref="MinimumDefaultBatch"/>.
    /// </summary>
    internal static int DefaultBatch(int vocabSize)
    {
        long fits = DefaultBatchLogitsBytes / (sizeof(float) * (long)Math.Max(1, vocabSize));
        int batch = fits >= int.MaxValue ? 1 << 30 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)fits + 1) >> 1;
        return Math.Max(MinimumDefaultBatch, batch);
    }

    internal int EffectiveBatch(int vocabSize) => Math.Min(BatchSize > 0 ? BatchSize : DefaultBatch(vocabSize), ContextSize);
    internal int EffectiveUBatch(int vocabSize) => UBatchSize > 0 ? Math.Min(UBatchSize, EffectiveBatch(vocabSize)) : EffectiveBatch(vocabSize);
    internal int ThreadsFor(LlamaModel model) => Threads > 0 ? Threads : Hardware.DefaultThreads(model.ParameterCount);
}
