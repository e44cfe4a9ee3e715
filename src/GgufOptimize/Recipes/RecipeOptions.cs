namespace GgufOptimize.Recipes;

/// <summary>Settings of one recipe: the table, the model it was measured on, exactly one budget, where to write.</summary>
internal sealed record RecipeOptions
{
    public required string SensitivityPath { get; init; }
    public required string ModelPath { get; init; }
    public string? ImatrixPath { get; init; }
    /// <summary>Tensor-data bits per weight (as llama-quantize reports it).</summary>
    public double? BudgetBpw { get; init; }
    /// <summary>File size, e.g. "4.2G" (binary units) or a byte count.</summary>
    public string? BudgetSize { get; init; }
    /// <summary>A llama.cpp type (e.g. Q4_K_M) whose tensor data, with the same imatrix, the recipe must not exceed.</summary>
    public string? Like { get; init; }
    public required string OutputDirectory { get; init; }
    public required string Name { get; init; }
    /// <summary>Measure against these stored logits instead of the table's baseline (e.g. held-out text).</summary>
    public string? BaselineLogits { get; init; }
    /// <summary>Chunks of the baseline to measure on (seeded random sample); null = all.</summary>
    public int? EvalChunks { get; init; }
    /// <summary>What the choice minimises (the predicted mean KLD always comes from the mean increases).</summary>
    public RecipeObjective Objective { get; init; } = RecipeObjective.Mean;
    /// <summary>Write the recipe and the model but do not measure it.</summary>
    public bool SkipMeasure { get; init; }
    /// <summary>How the quantization and the comparison run llama.cpp (threads, sizes, engine settings).</summary>
    public GgufOptimize.Engine.EvaluationSettings Evaluation { get; init; } = GgufOptimize.Engine.EvaluationSettings.Default;
}
