namespace GgufOptimize.Datasets.Selection;

/// <summary>How much one language takes after its skipped samples: a number of samples, or enough samples to reach a token count.</summary>
internal readonly record struct SelectionBudget(long Samples, double Tokens)
{
    public bool ByTokens => Samples < 0;
    public static SelectionBudget OfSamples(long count) => new(count, 0);
    public static SelectionBudget OfTokens(double tokens) => new(-1, tokens);
}
