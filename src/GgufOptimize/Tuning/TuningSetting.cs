using System.Globalization;

namespace GgufOptimize.Tuning;

/// <summary>
/// One point of the search: logical batch (tokens per llama_decode call), physical micro-batch and CPU threads, all
/// effective values (ubatch ≤ batch ≤ context, threads ≥ 1), so two settings that run the same way compare equal.
/// </summary>
internal sealed record TuningSetting(int Batch, int UBatch, int Threads)
{
    /// <summary>The options that select this setting, as a user types them.</summary>
    public string Arguments => string.Create(CultureInfo.InvariantCulture, $"-b {Batch} -ub {UBatch} -t {Threads}");

    /// <inheritdoc/>
    public override string ToString() => Arguments;
}
