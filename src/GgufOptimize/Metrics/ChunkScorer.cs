namespace GgufOptimize.Metrics;

/// <summary>
/// Scores every position of a chunk: row j of the logits (row-major, tokens.Length × nVocab, as the evaluator
/// returns them) predicts tokens[j+1], so positions skipFirst … tokens.Length−2 are scored (the last row has no
/// next token inside the chunk). skipFirst = tokens.Length/2 reproduces llama-perplexity --kl-divergence.
/// </summary>
public static class ChunkScorer
{
    public static ChunkResult Score(int chunkIndex, ReadOnlySpan<float> baseline, ReadOnlySpan<float> target,
        ReadOnlySpan<int> tokens, int nVocab, int skipFirst = 0)
    {
        Validate(baseline.Length, target.Length, tokens.Length, nVocab, skipFirst);
        var builder = new ChunkResultBuilder(chunkIndex, Math.Max(0, tokens.Length - 1 - skipFirst));
        for (int j = skipFirst; j < tokens.Length - 1; j++)
            builder.Add(LogitComparer.Compare(baseline.Slice(j * nVocab, nVocab), target.Slice(j * nVocab, nVocab), tokens[j + 1]));
        return builder.Build();
    }

    /// <summary>Same, with the baseline stored as float16 (widened one row at a time).</summary>
    public static ChunkResult Score(int chunkIndex, ReadOnlySpan<Half> baseline, ReadOnlySpan<float> target,
        ReadOnlySpan<int> tokens, int nVocab, int skipFirst = 0)
    {
        Validate(baseline.Length, target.Length, tokens.Length, nVocab, skipFirst);
        var builder = new ChunkResultBuilder(chunkIndex, Math.Max(0, tokens.Length - 1 - skipFirst));
        var row = new float[nVocab];
        for (int j = skipFirst; j < tokens.Length - 1; j++)
        {
            HalfConversion.ToSingle(baseline.Slice(j * nVocab, nVocab), row);
            builder.Add(LogitComparer.Compare(row, target.Slice(j * nVocab, nVocab), tokens[j + 1]));
        }
        return builder.Build();
    }

    /// <summary>Same, with both baseline and target stored as float16.</summary>
    public static ChunkResult Score(int chunkIndex, ReadOnlySpan<Half> baseline, ReadOnlySpan<Half> target,
        ReadOnlySpan<int> tokens, int nVocab, int skipFirst = 0)
    {
        Validate(baseline.Length, target.Length, tokens.Length, nVocab, skipFirst);
        var builder = new ChunkResultBuilder(chunkIndex, Math.Max(0, tokens.Length - 1 - skipFirst));
        var rowP = new float[nVocab];
        var rowQ = new float[nVocab];
        for (int j = skipFirst; j < tokens.Length - 1; j++)
        {
            HalfConversion.ToSingle(baseline.Slice(j * nVocab, nVocab), rowP);
            HalfConversion.ToSingle(target.Slice(j * nVocab, nVocab), rowQ);
            builder.Add(LogitComparer.Compare(rowP, rowQ, tokens[j + 1]));
        }
        return builder.Build();
    }

    private static void Validate(int baselineLength, int targetLength, int tokenCount, int nVocab, int skipFirst)
    {
        if (nVocab <= 0)
            throw new ArgumentOutOfRangeException(nameof(nVocab), nVocab, "vocabulary size must be positive");
        if (skipFirst < 0)
            throw new ArgumentOutOfRangeException(nameof(skipFirst), skipFirst, "must be ≥ 0");
        long expected = (long)tokenCount * nVocab;
        if (baselineLength != expected || targetLength != expected)
            throw new ArgumentException($"expected {tokenCount} tokens × {nVocab} logits = {expected} per chunk; baseline has {baselineLength}, target has {targetLength}");
    }
}
