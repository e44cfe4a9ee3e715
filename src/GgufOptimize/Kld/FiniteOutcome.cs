using GgufOptimize.Common;
using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>
/// The one gate a comparison's statistics pass before they become output: a NaN or infinite headline number is never
/// reported as a success. Inputs are validated when opened, so a non-finite statistic over scored tokens is our own
/// failure (exit 1); no scored token at all is the inputs' (exit 2).
/// </summary>
internal static class FiniteOutcome
{
    public static void Require(KldStatistics overall, string output)
    {
        if (overall.Tokens == 0)
            throw GgufOptimizeException.BadInput($"no position was scored for '{output}': every compared position was skipped or excluded (NaN/Inf target rows); nothing to report");
        foreach (var (name, value) in new[]
        {
            (nameof(overall.Average), overall.Average), (nameof(overall.Median), overall.Median), (nameof(overall.KLD_99), overall.KLD_99),
            (nameof(overall.KLD_95), overall.KLD_95), (nameof(overall.KLD_90), overall.KLD_90), (nameof(overall.Score), overall.Score),
            (nameof(overall.Same_top_p), overall.Same_top_p),
        })
        {
            if (!double.IsFinite(value))
                throw GgufOptimizeException.Runtime($"internal error: the comparison's {name} is {value} over {overall.Tokens} scored tokens; '{output}' was not written");
        }
    }
}
