namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// The order samples are written in and where each nested subset ends. Subset i is the first
/// <see cref="Boundaries"/>[i] entries of <see cref="Order"/>, so every subset is a prefix of the next.
/// </summary>
internal sealed class SubsetPlan
{
    private SubsetPlan(List<(int Language, int Index)> order, List<int> boundaries)
    {
        Order = order;
        Boundaries = boundaries;
    }

    /// <summary>Language and index into that language's selected samples, in file order.</summary>
    public IReadOnlyList<(int Language, int Index)> Order { get; }
    public IReadOnlyList<int> Boundaries { get; }

    /// <summary>
    /// Sample-count sizes (per language at equal weight, so a size covers size × languages slots). The slot sequence
    /// continues after the skipped slots, so a run with <c>--skip-samples</c> continues the order of the run it extends;
    /// slots of a language that ran out of samples are passed over.
    /// </summary>
    public static SubsetPlan ForSamples(IReadOnlyList<double> weights, long skipSize, IReadOnlyList<long> sizes, IReadOnlyList<int> available)
    {
        int languages = weights.Count;
        var sequence = new SeatSequence(weights);
        sequence.AdvanceTo(skipSize * languages);
        var skipped = Enumerable.Range(0, languages).Select(sequence.SeatsOf).ToArray();
        long total = available.Sum(a => (long)a);
        var order = new List<(int, int)>((int)Math.Min(total, 1 << 20));
        var boundaries = new List<int>();
        long seat = 0;
        foreach (long size in sizes)
        {
            // Once every language has run out, further slots add nothing (and a huge size would only spin).
            for (; seat < size * languages && order.Count < total; seat++)
            {
                int language = sequence.Next();
                int index = (int)(sequence.SeatsOf(language) - 1 - skipped[language]);
                if (index < available[language]) order.Add((language, index));
            }
            boundaries.Add(order.Count);
        }
        return new SubsetPlan(order, boundaries);
    }

    /// <summary>
    /// Token sizes (total over languages). Sample j of a language enters once the subset's share for that language
    /// exceeds the tokens of its samples before j; sorting by that threshold makes each subset a prefix.
    /// </summary>
    public static SubsetPlan ForTokens(IReadOnlyList<double> shares, IReadOnlyList<IReadOnlyList<int>> tokens, IReadOnlyList<long> sizes)
    {
        var entries = new List<(double Threshold, int Language, int Index)>();
        for (int language = 0; language < shares.Count; language++)
        {
            long before = 0;
            for (int j = 0; j < tokens[language].Count; j++)
            {
                entries.Add((before / shares[language], language, j));
                before += tokens[language][j];
            }
        }
        entries.Sort();
        var order = entries.Select(e => (e.Language, e.Index)).ToList();
        var boundaries = sizes.Select(size => entries.FindLastIndex(e => e.Threshold < size) + 1).ToList();
        return new SubsetPlan(order, boundaries);
    }
}
