namespace GgufOptimize.Logits;

internal sealed record LogitsJobResult(
    string OutputPath,
    int TotalChunks,
    int ChunksComputed,
    int ChunksAlreadyDone,
    long TokensComputed,
    int ContextSize,
    int VocabSize,
    double Seconds);
