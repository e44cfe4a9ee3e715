namespace GgufOptimize.Engine;

/// <summary>
/// Receives what <see cref="ActivationCapture"/> measured at one matrix multiplication: per input column
/// the sum of squared activations, grouped by matrix (one group for a dense weight, one per expert for
/// a mixture-of-experts weight), and how many activation rows each group saw.
/// </summary>
internal interface IActivationSink
{
    /// <param name="weight">The weight's tensor name, backend decoration removed (e.g. <c>blk.0.attn_q.weight</c>).</param>
    /// <param name="squares">groups × width sums of x², group-major.</param>
    /// <param name="rows">Activation rows per group; its length is the number of groups.</param>
    void Add(string weight, ReadOnlySpan<double> squares, ReadOnlySpan<long> rows);
}
