namespace GgufOptimize.Synthetic;

/// <summary>Channel indices (0-based, within n_embd) of a synthetic model's large activations.</summary>
internal sealed record SyntheticChannels(int Sink, IReadOnlyList<int> Outliers)
{
    public IEnumerable<int> All => Outliers.Prepend(Sink);
}
