namespace GgufOptimize.Logits;

public sealed record LogitsJobResult(
    string OutputPath,
    int TotalChunks,
    int ChunksComputed,
    int ChunksAlreadyDone,
    long TokensComputed,
    int ContextSize,
    int VocabSize,
    double Seconds);
