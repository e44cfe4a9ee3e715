using GgufOptimize.Common;
using GgufOptimize.Quantization;

namespace GgufOptimize.Workflow;

/// <summary>
/// One entry of iterate's <c>types</c>: a llama.cpp type (Q4_K_M), or a recipe — <c>recipe:FILE.yaml</c> or
/// <c>recipe:DIR/NAME</c> (= DIR/NAME.yaml), a quantize config as <c>recipe</c> writes it (one carrier file type and
/// its <c>tensor_types</c> rules). Both are quantized with the same imatrix and compared on the same chunks.
/// </summary>
/// <param name="Name">How the entry is named in files, state keys and the report: the type's name, or <c>recipe-NAME</c>.</param>
/// <param name="Type">The file type asked of llama.cpp; a recipe's carries the entry's name (file names come from it).</param>
/// <param name="Rules">The recipe's tensor-type rules (first match wins); empty for a plain type.</param>
/// <param name="RecipePath">The recipe's config file; null for a plain type.</param>
internal sealed record IterationEntry(string Name, QuantizationType Type, IReadOnlyList<TensorTypeRule> Rules, string? RecipePath)
{
    public const string RecipePrefix = "recipe:";

    /// <summary>What report names and plots use to tell recipes from llama.cpp's own types.</summary>
    public const string RecipeNamePrefix = Reporting.ReportPlots.RecipePrefix;

    /// <summary>
    /// The sensitivity table the recipe was chosen from, when <c>recipe</c> left its NAME.recipe.json next to the config
    /// and the table still exists (the report then shows its heat maps); otherwise null.
    /// </summary>
    public string? SensitivityTable()
    {
        if (RecipePath is null) return null;
        string result = Path.ChangeExtension(RecipePath, null) + ".recipe.json";
        if (!File.Exists(result)) return null;
        try
        {
            string table = Recipes.RecipeJson.Read<Recipes.RecipeResult>(result, "recipe result").Sensitivity;
            return File.Exists(table) ? table : null;
        }
        catch (GgufOptimizeException e) when (e.Kind == FailureKind.BadInput)
        {
            return null; // the heat maps are extra; a recipe without a readable result still competes
        }
    }

    public bool IsRecipe => RecipePath is not null;

    /// <summary>The rules as text: part of a quantization's identity, so an edited recipe is quantized again.</summary>
    public string RulesKey => Rules.Count == 0 ? "" : "|rules " + string.Join(";", Rules);

    /// <summary>Whether llama.cpp refuses this entry without imatrix data (then it starts at iteration 1).</summary>
    public bool NeedsImatrix => ImatrixRequirement.ForFileType(Type)
        || Rules.Any(r => ImatrixRequirement.ForTensorType(r.TypeId));

    public static bool IsRecipeText(string text) => text.StartsWith(RecipePrefix, StringComparison.OrdinalIgnoreCase);

    public static IterationEntry Parse(string text)
    {
        if (!IsRecipeText(text))
        {
            var type = QuantizationTypes.Parse(text);
            if (type.OnlyCopy) throw GgufOptimizeException.BadInput("type COPY does not quantize; it has nothing to compare");
            return new IterationEntry(type.Name, type, [], null);
        }
        string path = ConfigPath(text);
        string stem = Path.GetFileNameWithoutExtension(path);
        try
        {
            if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"'{path}' does not exist (write one with `gguf-optimize recipe`)");
            var carriers = QuantizationTypes.LoadConfig(path);
            if (carriers.Count != 1)
                throw GgufOptimizeException.BadInput($"'{path}' lists {carriers.Count} quantizations; a recipe has exactly one (the file type that carries its rules)");
            var rules = QuantizationTypes.LoadConfigTensorTypes(path);
            if (rules.Count == 0) throw GgufOptimizeException.BadInput($"'{path}' has no 'tensor_types:' rules, so it is not a recipe; list the type itself instead");
            string name = RecipeNamePrefix + stem;
            return new IterationEntry(name, carriers[0] with { Name = name }, rules, Path.GetFullPath(path));
        }
        catch (GgufOptimizeException e) when (e.Kind == FailureKind.BadInput)
        {
            throw GgufOptimizeException.BadInput($"types entry '{text}': {e.Message}");
        }
    }

    /// <summary><c>recipe:X</c> names X itself when it exists or ends in .yaml/.yml, otherwise X.yaml (recipe's NAME.yaml).</summary>
    public static string ConfigPath(string text)
    {
        string rest = text[RecipePrefix.Length..].Trim();
        if (rest.Length == 0) throw GgufOptimizeException.BadInput($"types entry '{text}' names no recipe: write recipe:DIR/NAME or recipe:FILE.yaml");
        bool yaml = rest.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || rest.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        return yaml || File.Exists(rest) ? rest : rest + ".yaml";
    }
}
