namespace GgufOptimize.Recipes;

/// <summary>The type a recipe gives one group, and what the table predicts for it.</summary>
internal sealed record RecipeChoice(string Group, string Pattern, string Type, string ActualType, long Bytes, double Delta);

/// <summary>A recipe's budget: how it was given and what it allows in aligned tensor-data bytes.</summary>
internal sealed record RecipeBudget(string Kind, string Value, long TensorBytes, long? FileBytes);

/// <summary>The measured side of a recipe (null when not measured).</summary>
internal sealed record RecipeMeasurement(string BaselineLogits, int Chunks, long Tokens, double MeanKld, double Score, double Median, double Kld99, double MeanKldSe);

/// <summary>What <c>recipe</c> wrote: the choices, the prediction and, side by side, the measurement.</summary>
internal sealed record RecipeResult
{
    public required string Name { get; init; }
    /// <summary>What the choice minimised: mean, score or both (<see cref="RecipeObjective"/>).</summary>
    public string Objective { get; init; } = "mean";
    public required string Sensitivity { get; init; }
    public required RecipeBudget Budget { get; init; }
    public required IReadOnlyList<RecipeChoice> Choices { get; init; }
    public required string ModelPath { get; init; }
    public required string ConfigPath { get; init; }
    public required string ArgumentsPath { get; init; }
    public required long FileBytes { get; init; }
    public required long TensorBytes { get; init; }
    public required double BitsPerWeight { get; init; }
    /// <summary>Summed single-group increases.</summary>
    public required double PredictedDelta { get; init; }
    /// <summary>The additivity factor from the table's all-groups checks.</summary>
    public required double AdditivityFactor { get; init; }
    /// <summary>Reference mean KLD + factor × predicted increase.</summary>
    public required double PredictedMeanKld { get; init; }
    public RecipeMeasurement? Measured { get; init; }
}
