using GgufOptimize.Common;

namespace GgufOptimize.Engine;

/// <summary>
/// Tokenizing a long text in bounded pieces with the same result as one call. The rule: a piece ends just before a
/// single space that stands between two non-space characters (where every pre-tokenizer we know starts a new word),
/// and a cut is accepted only when it is invisible to the tokenizer: the text around it, <see cref="Window"/>
/// characters either side, tokenized in one call equals the two sides tokenized separately — with the space kept at
/// the start of the right side (byte-level BPE, which attaches it to the word), or dropped (SentencePiece-style
/// tokenizers, which add that space back as the prefix of every call). Texts without such a cut (no spaces, or every
/// candidate merges across) fall back to any character boundary that passes the same check, then to one call.
/// </summary>
internal static class TextPieces
{
    /// <summary>Characters per piece: small enough that llama.cpp's per-call memory stays in the tens of MB.</summary>
    public const int PieceChars = 256 * 1024;
    private const int Window = 256;
    private const int Candidates = 32;

    /// <summary>
    /// Texts from this length up to <see cref="PieceChars"/> are cut once near the middle (by the same rule) and the
    /// halves tokenized at the same time on two cores: llama.cpp's tokenizer is single-threaded and was a sixth of a
    /// one-chunk run's start-up on the shared models (llama.cpp tokenizes from several threads at once itself, e.g. in
    /// its server).
    /// </summary>
    public const int ParallelChars = 32 * 1024;

    public static int[] Tokenize(string text, Func<string, int[]> tokenize, IProgressSink progress)
    {
        if (text.Length <= PieceChars) return TokenizeInHalves(text, tokenize);
        var result = new List<int>(text.Length / 4);
        progress.Start("tokenizing (characters)", text.Length);
        int start = 0;
        bool dropSpace = false;
        while (start < text.Length)
        {
            int end = text.Length;
            bool dropNext = false;
            if (text.Length - start > PieceChars + PieceChars / 2)
                (end, dropNext) = FindCut(text, start, tokenize) ?? (text.Length, false);
            int from = dropSpace ? start + 1 : start;
            result.AddRange(tokenize(text[from..end]));
            progress.Report(end);
            (start, dropSpace) = (end, dropNext);
        }
        progress.Finish();
        return result.ToArray();
    }

    private static int[] TokenizeInHalves(string text, Func<string, int[]> tokenize)
    {
        if (text.Length < ParallelChars || Environment.ProcessorCount < 2) return tokenize(text);
        if (FindCut(text, text.Length / 2, text.Length / 4, 3 * text.Length / 4, tokenize) is not { } cut) return tokenize(text);
        int from = cut.DropSpace ? cut.End + 1 : cut.End;
        var right = Task.Run(() => tokenize(text[from..]));
        int[] left = tokenize(text[..cut.End]);
        return [.. left, .. right.GetAwaiter().GetResult()];
    }

    /// <summary>Where the piece starting at <paramref name="start"/> ends, and whether the next piece drops its first (space) character.</summary>
    private static (int End, bool DropSpace)? FindCut(string text, int start, Func<string, int[]> tokenize) =>
        FindCut(text, start + PieceChars, start + PieceChars / 2, Math.Min(text.Length - 1, start + 2 * PieceChars), tokenize);

    /// <summary>A cut in (<paramref name="low"/>, <paramref name="high"/>), nearest <paramref name="target"/> first.</summary>
    private static (int End, bool DropSpace)? FindCut(string text, int target, int low, int high, Func<string, int[]> tokenize)
    {
        int tried = 0;
        // Spaces between words, nearest the target size first (looking back, then ahead).
        foreach (int p in Around(target, low, high))
        {
            if (text[p] != ' ' || char.IsWhiteSpace(text[p - 1]) || char.IsWhiteSpace(text[p + 1])) continue;
            if (Invisible(text, p, tokenize, dropSpace: false)) return (p, false);
            if (Invisible(text, p, tokenize, dropSpace: true)) return (p, true);
            if (++tried >= Candidates) break;
        }
        // No word boundary works (e.g. a script without spaces): any character boundary the check accepts.
        tried = 0;
        for (int p = target; p < high; p += 97)
        {
            if (char.IsLowSurrogate(text[p]) || char.IsWhiteSpace(text[p]) || char.IsWhiteSpace(text[p - 1])) continue;
            if (Invisible(text, p, tokenize, dropSpace: false)) return (p, false);
            if (++tried >= Candidates) break;
        }
        return null;
    }

    private static IEnumerable<int> Around(int target, int low, int high)
    {
        for (int d = 0; target - d > low || target + d < high; d++)
        {
            if (target - d > low) yield return target - d;
            if (d > 0 && target + d < high) yield return target + d;
        }
    }

    private static bool Invisible(string text, int cut, Func<string, int[]> tokenize, bool dropSpace)
    {
        string left = text[Math.Max(0, cut - Window)..cut];
        string right = text[cut..Math.Min(text.Length, cut + Window)];
        var whole = tokenize(left + right);
        var split = tokenize(left).Concat(tokenize(dropSpace ? right[1..] : right));
        return whole.SequenceEqual(split);
    }
}
