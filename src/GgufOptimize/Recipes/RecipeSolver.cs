namespace GgufOptimize.Recipes;

/// <summary>One way to store a group: its size and the mean-KLD increase it is predicted to cause.</summary>
internal sealed record GroupOption(string Type, long Bytes, double Delta);

/// <summary>
/// Picks one option per group so the summed bytes stay within the budget and the summed delta is smallest: a
/// multiple-choice knapsack solved by dynamic programming over the budget, in exact steps (the sizes' common divisor)
/// when there are few enough, else in <see cref="Units"/> steps. Sizes are rounded up to whole steps, so a solution
/// found always fits the exact budget; with rounded steps it can miss the true optimum only by what that rounding
/// hides (at most one step per group).
/// </summary>
internal static class RecipeSolver
{
    public const int Units = 20000;

    /// <summary>The chosen option index per group, or null when even the smallest options exceed the budget.</summary>
    public static int[]? Solve(IReadOnlyList<IReadOnlyList<GroupOption>> groups, long budget)
    {
        if (budget <= 0) return null;
        double unit = Unit(groups, budget);
        int capacity = (int)Math.Floor(budget / unit);
        var best = new double[capacity + 1];
        var choice = new short[groups.Count, capacity + 1];
        Array.Fill(best, 0);
        for (int g = 0; g < groups.Count; g++)
        {
            var next = new double[capacity + 1];
            Array.Fill(next, double.PositiveInfinity);
            var options = groups[g];
            var cost = options.Select(o => (int)Math.Min(int.MaxValue, Math.Ceiling(o.Bytes / unit))).ToArray();
            for (int u = 0; u <= capacity; u++)
            {
                for (int k = 0; k < options.Count; k++)
                {
                    int rest = u - cost[k];
                    if (rest < 0 || double.IsPositiveInfinity(best[rest])) continue;
                    double v = best[rest] + options[k].Delta;
                    if (v < next[u]) { next[u] = v; choice[g, u] = (short)k; }
                }
            }
            best = next;
        }
        int at = -1;
        for (int u = 0; u <= capacity; u++)
            if (!double.IsPositiveInfinity(best[u]) && (at < 0 || best[u] < best[at])) at = u;
        if (at < 0) return null;
        var picks = new int[groups.Count];
        for (int g = groups.Count - 1; g >= 0; g--)
        {
            int k = choice[g, at];
            picks[g] = k;
            at -= (int)Math.Ceiling(groups[g][k].Bytes / unit);
        }
        return picks;
    }

    /// <summary>The largest exact step when it allows at most this many steps: sizes are then not rounded at all.</summary>
    public const int MaxExactUnits = 400_000;

    /// <summary>
    /// The DP's step in bytes: the greatest common divisor of every option's size (tensor sizes are multiples of the
    /// file's alignment) when the budget holds at most <see cref="MaxExactUnits"/> of them, so no size is rounded and
    /// no byte of the budget is lost to rounding; otherwise budget / <see cref="Units"/>.
    /// </summary>
    private static double Unit(IReadOnlyList<IReadOnlyList<GroupOption>> groups, long budget)
    {
        long gcd = 0;
        foreach (var g in groups)
            foreach (var o in g)
                gcd = Gcd(gcd, o.Bytes);
        if (gcd > 0 && budget / gcd <= MaxExactUnits) return gcd;
        return Math.Max(1.0, budget / (double)Units);
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return Math.Abs(a);
    }

    /// <summary>
    /// A type that is no larger than another cannot be predicted to do better than it: each option's delta is raised
    /// to the smallest delta among options at least as large, so measurement noise does not buy a smaller type.
    /// </summary>
    public static IReadOnlyList<GroupOption> MonotoneEnvelope(IReadOnlyList<GroupOption> options)
    {
        var sorted = options.OrderByDescending(o => o.Bytes).ToList();
        var result = new List<GroupOption>();
        double floor = double.NegativeInfinity;
        foreach (var o in sorted)
        {
            floor = Math.Max(floor, o.Delta);
            result.Add(o with { Delta = floor });
        }
        return result;
    }
}
