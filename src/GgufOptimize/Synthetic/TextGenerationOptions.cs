namespace GgufOptimize.Synthetic;

/// <summary>How <see cref="ModelTextGenerator"/> samples paragraphs from a model.</summary>
internal sealed record TextGenerationOptions
{
    public ulong Seed { get; init; } = 1;
    /// <summary>Softmax temperature; 0 picks the most likely token every time.</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Most tokens sampled per paragraph (after BOS); 0 = the model's training context minus one.</summary>
    public int MaxTokens { get; init; }
    /// <summary>Rejected samples in a row (invalid UTF-8, line breaks, empty) before giving up.</summary>
    public int MaxConsecutiveRejections { get; init; } = 50;
    /// <summary>CPU threads for llama.cpp; 0 = physical cores.</summary>
    public int Threads { get; init; }
}
