using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>
/// How a comparison's early stopping went, recorded in every output whether it was enabled or not.
/// </summary>
/// <param name="Enabled">--early-stopping was given.</param>
/// <param name="Stopped">The rule stopped the run before the last chunk of the range.</param>
/// <param name="Reason">One sentence: why the run ended where it did.</param>
/// <param name="ChunksUsed">Chunks compared.</param>
/// <param name="ChunksTotal">Chunks of the range the baseline holds (what a full run compares).</param>
/// <param name="RandomOrder">Chunks were visited in the seeded random order (<see cref="ChunkOrder"/>), not text order.</param>
/// <param name="Seed">Seed of the order and of the bootstrap.</param>
/// <param name="Confidence">Stated confidence that the interval covers the Score of all <see cref="ChunksTotal"/> chunks.</param>
/// <param name="LookConfidence">Confidence of each look's interval (the stated one spent over the planned looks).</param>
/// <param name="Margin">Relative margin of error that stops the run.</param>
/// <param name="PlannedLooks">Chunk counts at which the rule looks.</param>
/// <param name="Looks">Looks made.</param>
/// <param name="Lower">Lower end of the interval of the full range's Score (NaN when disabled).</param>
/// <param name="Upper">Upper end.</param>
public sealed record EarlyStoppingOutcome(
    bool Enabled, bool Stopped, string Reason, int ChunksUsed, int ChunksTotal, bool RandomOrder, ulong Seed,
    double Confidence, double LookConfidence, double Margin, IReadOnlyList<int> PlannedLooks, int Looks, double Lower, double Upper)
{
    public static EarlyStoppingOutcome Disabled(int chunksUsed, int chunksTotal, bool randomOrder, ulong seed) =>
        new(false, false, "early stopping was not enabled", chunksUsed, chunksTotal, randomOrder, seed, double.NaN, double.NaN, double.NaN, [], 0, double.NaN, double.NaN);
}
