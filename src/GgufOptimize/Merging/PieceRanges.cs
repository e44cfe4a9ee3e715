using GgufOptimize.Common;

namespace GgufOptimize.Merging;

/// <summary>
/// The chunks each piece holds, as runs [From, To): merged, they must neither overlap (a chunk twice, maybe with other
/// numbers) nor leave a hole (the merge would look complete around a missing shard).
/// </summary>
internal static class PieceRanges
{
    /// <summary>One run of consecutive chunks held by <paramref name="Piece"/>.</summary>
    public readonly record struct Run(string Piece, int From, int To);

    /// <summary>The consecutive runs of <paramref name="held"/> (ascending chunk numbers).</summary>
    public static IEnumerable<Run> RunsOf(string piece, IEnumerable<int> held)
    {
        int start = -1, end = -1;
        foreach (int c in held)
        {
            if (c == end) { end++; continue; }
            if (start >= 0) yield return new Run(piece, start, end);
            start = c;
            end = c + 1;
        }
        if (start >= 0) yield return new Run(piece, start, end);
    }

    /// <summary>Checks that the runs tile one range and returns it; the error names the two pieces that clash.</summary>
    public static (int From, int To) Check(IReadOnlyList<Run> runs)
    {
        var sorted = runs.OrderBy(r => r.From).ThenBy(r => r.To).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            var a = sorted[i - 1];
            var b = sorted[i];
            if (b.From < a.To)
                throw GgufOptimizeException.BadInput($"merge: pieces overlap: '{a.Piece}' holds chunks {a.From}..{a.To - 1} and '{b.Piece}' holds {b.From}..{b.To - 1}; give each chunk once");
            if (b.From > a.To)
                throw GgufOptimizeException.BadInput($"merge: chunks {a.To}..{b.From - 1} are missing between '{a.Piece}' (…{a.To - 1}) and '{b.Piece}' ({b.From}…); add the shard that holds them");
        }
        return (sorted[0].From, sorted[^1].To);
    }
}
