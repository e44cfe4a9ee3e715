namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// Orders the selected samples so that the languages take their shares of the <em>tokens</em> everywhere in the file
/// (<c>dataset --chunk-size N --model</c>): the next sample always comes from the language furthest behind its share
/// of the tokens written so far. Every prefix is then balanced to within one sample, so each chunk of N tokens that
/// llama-imatrix (or an imatrix on any prefix) sees holds every language in its share, not only the file as a whole.
/// </summary>
internal static class TokenInterleave
{
    /// <param name="tokens">Per language, the token counts of its selected samples in their selected order.</param>
    /// <param name="shares">Per language, its share of the tokens (summing to 1).</param>
    public static List<(int Language, int Index)> Order(IReadOnlyList<IReadOnlyList<int>> tokens, IReadOnlyList<double> shares)
    {
        int languages = tokens.Count;
        var next = new int[languages];
        var written = new long[languages];
        long total = 0;
        var order = new List<(int, int)>(tokens.Sum(t => t.Count));
        while (true)
        {
            int best = -1;
            double bestDeficit = double.NegativeInfinity;
            for (int l = 0; l < languages; l++)
            {
                if (next[l] >= tokens[l].Count) continue;
                // How far the language is below its share of the tokens written so far; ties go to the earlier language.
                double deficit = shares[l] * total - written[l];
                if (deficit > bestDeficit) { bestDeficit = deficit; best = l; }
            }
            if (best < 0) return order;
            int t = Math.Max(0, tokens[best][next[best]]);
            order.Add((best, next[best]++));
            written[best] += t;
            total += t;
        }
    }
}
