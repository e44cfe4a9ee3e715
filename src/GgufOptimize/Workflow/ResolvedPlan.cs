using System.Globalization;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Storage;

namespace GgufOptimize.Workflow;

/// <summary>
/// A plan checked against the files it names, before any long work: the model, the evaluation text or baseline
/// logits (made from this model), the calibration source and sizes, the types and every number.
/// </summary>
internal sealed record ResolvedPlan
{
    public required IterationPlan Plan { get; init; }
    public required string Model { get; init; }
    public required ModelIdentity ModelIdentity { get; init; }
    public required string Output { get; init; }
    /// <summary>The plan's types and recipes, in order.</summary>
    public required IReadOnlyList<IterationEntry> Types { get; init; }
    public required int ContextSize { get; init; }
    /// <summary>Set when the plan names stored logits; otherwise they are computed into the output folder.</summary>
    public string? BaselineLogits { get; init; }
    /// <summary>What the stored logits named by <see cref="BaselineLogits"/> hold, read once when the plan was checked.</summary>
    public ReusedBaseline? ReusedBaseline { get; init; }
    public string? DatasetSha256 { get; init; }
    public required string Name { get; init; }

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static ResolvedPlan Check(IterationPlan plan, IProgressSink progress)
    {
        if (plan.Model is null) throw GgufOptimizeException.BadInput("no model: set 'model' (the unquantized GGUF)");
        if (!File.Exists(plan.Model)) throw GgufOptimizeException.BadInput($"model '{plan.Model}' does not exist");
        if (plan.Dataset is null && plan.BaselineLogits is null)
            throw GgufOptimizeException.BadInput("no evaluation data: set 'dataset' (a text file) or 'baseline_logits' (stored logits of the model)");
        if (plan.Dataset is not null && !File.Exists(plan.Dataset)) throw GgufOptimizeException.BadInput($"dataset '{plan.Dataset}' does not exist");
        if (plan.BaselineLogits is not null && !File.Exists(plan.BaselineLogits))
            throw GgufOptimizeException.BadInput($"baseline logits '{plan.BaselineLogits}' do not exist");
        CheckNumbers(plan);
        var types = ParseTypes(plan.Types);
        CalibrationSubsets.Validate(plan);
        if (plan.Output is null) throw GgufOptimizeException.BadInput("no output folder: set 'output'");
        OutputPaths.EnsureWritableFolder(plan.Output, "output folder");
        string name = plan.Name ?? OutputNaming.DefaultName(plan.Model);
        CheckName(name, plan.Output, types);

        var gguf = GgufModelValidation.ReadChecked(plan.Model);
        if (gguf.Architecture is null) throw GgufOptimizeException.BadInput($"'{plan.Model}' is not a model (no general.architecture)");
        foreach (var entry in types.Where(t => t.IsRecipe)) CheckRecipeFits(entry, gguf, plan.Model);
        if (plan.HfConfig is { } hfConfig)
        {
            // Resolved once here, so every step (and its cached identity) runs with the same settings.
            var resolved = HfModelConfig.Resolve(HfModelConfig.ReadText(hfConfig), hfConfig, GgufModelFacts.Of(gguf), plan.ContextSize, plan.Engine);
            foreach (var warning in resolved.Warnings) progress.Warn(warning);
            plan = plan with { Engine = resolved.Settings };
        }
        var identity = ModelIdentity.Of(plan.Model);
        string? datasetSha = plan.Dataset is null ? null : TextCorpus.Load(plan.Dataset).Sha256;

        int context;
        ReusedBaseline? reused = null;
        if (plan.BaselineLogits is { } logits)
        {
            reused = ReusedBaseline.Open(logits);
            var header = reused.Header;
            if (header.Model.Sha256 != identity.Sha256)
                throw GgufOptimizeException.BadInput($"baseline logits '{logits}' were made from model '{header.Model.FileName}' (sha256 {header.Model.Sha256[..12]}…), not '{plan.Model}' (sha256 {identity.Sha256[..12]}…)");
            if (datasetSha is not null && datasetSha != header.DatasetSha256)
                throw GgufOptimizeException.BadInput($"baseline logits '{logits}' were made from dataset '{header.DatasetFile}', not '{plan.Dataset}' (their SHA-256 differ)");
            if (plan.ContextSize != 0 && plan.ContextSize != header.ContextSize)
                throw GgufOptimizeException.BadInput($"context_size {plan.ContextSize} differs from the baseline logits' chunks of {header.ContextSize} tokens");
            context = header.ContextSize;
            if (reused.ProcessedCount == 0) throw GgufOptimizeException.BadInput($"baseline logits '{logits}' hold no finished chunk");
        }
        else
        {
            using var model = LlamaModel.Load(plan.Model, plan.Engine);
            context = Chunking.ChunkContext.Resolve(plan.ContextSize, model.TrainContext, progress);
        }

        if (plan.SkipFirst >= context - 1)
            throw GgufOptimizeException.BadInput($"skip_first {plan.SkipFirst} leaves no position to score in chunks of {context} tokens: it must be below {context - 1}");
        return new ResolvedPlan
        {
            Plan = plan,
            Model = plan.Model,
            ModelIdentity = identity,
            Output = Path.GetFullPath(plan.Output),
            Types = types,
            ContextSize = context,
            BaselineLogits = plan.BaselineLogits,
            ReusedBaseline = reused,
            DatasetSha256 = datasetSha,
            Name = name,
        };
    }

    /// <summary>The longest model file name the loop will write must be legal, before the baseline is computed.</summary>
    private static void CheckName(string name, string output, IReadOnlyList<IterationEntry> types)
    {
        try
        {
            foreach (var entry in types)
                OutputPaths.EnsureNameFits(Path.Combine(output, "quant", OutputNaming.FileName(name, entry.Type, new string('9', 19) + "-samples")), "name");
        }
        catch (GgufOptimizeException e) when (e.Kind == FailureKind.BadInput)
        {
            throw GgufOptimizeException.BadInput($"name '{name}' cannot name the quantized models ({e.Message.Replace("--name", "name")}); set 'name' to a short file-name stem such as 'mymodel'");
        }
    }

    private static IReadOnlyList<IterationEntry> ParseTypes(IReadOnlyList<string> names)
    {
        if (names.Count == 0) throw GgufOptimizeException.BadInput("no quantization type: set 'types' (e.g. [Q4_0, Q4_K_M] or [Q4_K_M, 'recipe:mix.yaml'])");
        var types = new List<IterationEntry>();
        foreach (var name in names)
        {
            var entry = IterationEntry.Parse(name);
            if (types.Any(t => t.Name == entry.Name))
                throw GgufOptimizeException.BadInput(entry.IsRecipe
                    ? $"types entry '{name}': a recipe named '{Path.GetFileNameWithoutExtension(entry.RecipePath)}' is listed twice in 'types' (rename one file)"
                    : $"type {entry.Name} is listed twice in 'types'");
            types.Add(entry);
        }
        return types;
    }

    /// <summary>A recipe made for another model would quietly leave its groups at the carrier type: every rule must match a tensor.</summary>
    private static void CheckRecipeFits(IterationEntry entry, GgufFile model, string modelPath)
    {
        foreach (var rule in entry.Rules)
        {
            var regex = new System.Text.RegularExpressions.Regex(rule.Pattern, System.Text.RegularExpressions.RegexOptions.ECMAScript);
            if (!model.Tensors.Any(t => regex.IsMatch(t.Name)))
                throw GgufOptimizeException.BadInput($"types entry 'recipe:{entry.RecipePath}': rule '{rule}' matches no tensor of model '{modelPath}'; make the recipe from this model (gguf-optimize recipe)");
        }
    }

    private static void CheckNumbers(IterationPlan p)
    {
        void Require(bool ok, string message) { if (!ok) throw GgufOptimizeException.BadInput(message); }
        Require(p.ContextSize >= 0, $"context_size must not be negative (got {p.ContextSize})");
        Require(p.EvalChunks >= 0, $"eval_chunks must not be negative (got {p.EvalChunks})");
        Require(p.SkipFirst >= 0, $"skip_first must not be negative (got {p.SkipFirst})");
        Require(p.MinImprovement >= 0 && p.MinImprovement < 1, $"min_improvement must be a fraction in [0, 1), e.g. 0.01 or 1% (got {p.MinImprovement.ToString(Inv)})");
        Require(p.Confidence > 0 && p.Confidence < 1, $"confidence must be between 0 and 1 (got {p.Confidence.ToString(Inv)})");
        BootstrapOptions.CheckResamples(p.Resamples, "resamples");
        Require(p.MarginOfError > 0, $"margin_of_error must be positive (got {p.MarginOfError.ToString(Inv)})");
        Require(p.MinChunks >= 2, $"min_chunks must be at least 2 (got {p.MinChunks})");
        Require(p.Threads >= 0, $"threads must not be negative (got {p.Threads})");
    }
}
