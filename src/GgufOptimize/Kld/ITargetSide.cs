using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>What is compared with the baseline: a model run on the baseline's tokens, or stored full logits.</summary>
internal interface ITargetSide : IDisposable
{
    /// <summary>Shown as the target (a file name).</summary>
    string Description { get; }
    string Identity { get; }
    /// <summary>Engine settings that can change the logits, when a model is run here (part of a result's identity); null for stored logits.</summary>
    string? EngineSettings { get; }
    /// <summary>What the target is (type, imatrix, size), recorded in the comparison file for <c>report</c>.</summary>
    TargetFacts Facts();
    /// <summary>Refuses a target that cannot be compared with <paramref name="baseline"/>, and prepares to run on its chunks.</summary>
    void Attach(IBaselineSide baseline, KldJobOptions options);
    /// <summary>
    /// Hands the target's logits of chunk <paramref name="chunk"/>, made on (or checked against) <paramref name="tokens"/>,
    /// to <paramref name="onRows"/> a batch at a time in position order (first position, rows valid during the call),
    /// from the first position any score reads.
    /// </summary>
    void Stream(int chunk, int[] tokens, Action<int, LogitRows> onRows);
}
