namespace GgufOptimize.Engine;

/// <summary>How a llama.cpp context is set up for scoring fixed-length chunks.</summary>
internal sealed record EvaluatorOptions
{
    /// <summary>The longest chunk evaluated (tokens). llama.cpp may pad its own context above this.</summary>
    public required int ContextSize { get; init; }
    /// <summary>Logical batch per decode call; 0 = the context size.</summary>
    public int BatchSize { get; init; }
    /// <summary>Physical micro-batch; 0 = the batch size.</summary>
    public int UBatchSize { get; init; }
    /// <summary>CPU threads; 0 = chosen from the model's size (<see cref="Hardware.DefaultThreads(long)"/>).</summary>
    public int Threads { get; init; }

    internal int EffectiveBatch => BatchSize > 0 ? Math.Min(BatchSize, ContextSize) : ContextSize;
    internal int EffectiveUBatch => UBatchSize > 0 ? Math.Min(UBatchSize, EffectiveBatch) : EffectiveBatch;
    internal int ThreadsFor(LlamaModel model) => Threads > 0 ? Threads : Hardware.DefaultThreads(model.ParameterCount);
}
