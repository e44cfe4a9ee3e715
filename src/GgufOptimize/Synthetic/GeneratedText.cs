namespace GgufOptimize.Synthetic;

/// <summary>Paragraphs sampled from a model, with what happened to the samples that were not kept.</summary>
internal sealed record GeneratedText(
    IReadOnlyList<string> Paragraphs,
    int EndedByEos,
    int CutAtLimit,
    int RejectedInvalidUtf8,
    int RejectedLineBreak,
    int RejectedEmpty,
    long SampledTokens)
{
    /// <summary>The paragraphs separated by blank lines, ending with a newline.</summary>
    public string ToDocument() => string.Join("\n\n", Paragraphs) + "\n";
}
