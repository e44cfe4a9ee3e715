using GgufOptimize.Metrics;

namespace GgufOptimize.Workflow;

/// <summary>One quantization of one type at one calibration size, compared with the baseline.</summary>
/// <param name="Iteration">0 = without an imatrix; k = with the imatrix of the k-th subset.</param>
/// <param name="Calibration">Null for iteration 0.</param>
/// <param name="VersusPrevious">The stopping rule's verdict against the previous iteration of the same type.</param>
internal sealed record IterationOutcome(
    string Type,
    int Iteration,
    CalibrationSubset? Calibration,
    string QuantizedModel,
    string ComparisonFile,
    KldStatistics Overall,
    StepDecision? VersusPrevious);

/// <summary>Everything the loop did for one type, why it stopped and which iteration is best.</summary>
internal sealed record TypeOutcome(string Type, IReadOnlyList<IterationOutcome> Iterations, string StopReason, BestChoice Best);

internal sealed record IterationResult
{
    public required string OutputFolder { get; init; }
    public required IReadOnlyList<TypeOutcome> Types { get; init; }
    /// <summary>Chunks every comparison is scored on (the early-stopping count when it was used).</summary>
    public required int EvaluationChunks { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    /// <summary>Steps reused from an earlier (possibly interrupted) run, and steps computed now.</summary>
    public int StepsReused { get; init; }
    public int StepsRun { get; init; }
    public string? ReportFolder { get; init; }
}
