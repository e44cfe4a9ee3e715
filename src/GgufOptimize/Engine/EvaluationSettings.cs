namespace GgufOptimize.Engine;

/// <summary>
/// How a command that evaluates chunks runs llama.cpp: threads, context, batch and micro-batch sizes (0 = let the
/// library choose) and the model/context settings. Built once from the command line and passed whole, so a setting
/// cannot be dropped on the way to a comparison.
/// </summary>
internal sealed record EvaluationSettings
{
    public int Threads { get; init; }
    public int ContextSize { get; init; }
    public int BatchSize { get; init; }
    public int UBatchSize { get; init; }
    /// <summary>GPU placement, memory mapping, attention, cache types and RoPE (llama.cpp's defaults unless given).</summary>
    public EngineSettings Engine { get; init; } = EngineSettings.Default;

    public static EvaluationSettings Default { get; } = new();

    /// <summary>The sizes and settings as two lines, for work folders that must not mix measurements of other settings.</summary>
    public string Key() => $"context {ContextSize} batch {BatchSize} ubatch {UBatchSize}\nengine {Engine.LogitsKey()}";
}
