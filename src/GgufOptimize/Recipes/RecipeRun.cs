using System.Globalization;
using System.Text;
using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Quantization;

namespace GgufOptimize.Recipes;

/// <summary>
/// Chooses a type per tensor group that minimises the predicted mean-KLD increase within a size budget, writes it
/// as a quantize config and as llama-quantize arguments, quantizes it and measures it against the baseline.
/// </summary>
internal static class RecipeRun
{
    /// <summary>Metadata a recipe's header may hold beyond the input model's (file type, imatrix provenance).</summary>
    private const long HeaderSlack = 4096;

    public static RecipeResult Run(RecipeOptions o, IProgressSink progress, CancellationToken ct)
    {
        int budgets = (o.BudgetBpw is null ? 0 : 1) + (o.BudgetSize is null ? 0 : 1) + (o.Like is null ? 0 : 1);
        if (budgets != 1) throw GgufOptimizeException.BadInput("give exactly one of --budget-bpw, --budget-size and --like");
        if (o.EvalChunks is < 1) throw GgufOptimizeException.BadInput($"--eval-chunks must be at least 1 (got {o.EvalChunks})");
        var table = SensitivityFiles.Read(o.SensitivityPath);
        if (!File.Exists(o.ModelPath)) throw GgufOptimizeException.BadInput($"--model '{o.ModelPath}' does not exist");
        if (o.ImatrixPath is not null && !File.Exists(o.ImatrixPath)) throw GgufOptimizeException.BadInput($"--imatrix '{o.ImatrixPath}' does not exist");
        string? baseline = o.BaselineLogits ?? table.BaselineLogits;
        if (!o.SkipMeasure && !File.Exists(baseline)) throw GgufOptimizeException.BadInput($"--baseline-logits '{baseline}' does not exist");
        var model = GgufFile.Read(o.ModelPath);
        CheckModel(table, model, o.ModelPath);
        string folder = Path.GetFullPath(o.OutputDirectory);
        Directory.CreateDirectory(folder);
        string stem = Path.Combine(folder, o.Name);
        OutputPaths.EnsureNameFits(stem + ".tensor-types.txt", "--name");
        using var claim = OutputLock.Acquire(stem + ".recipe.json", "--name");

        var measurer = new MixMeasurer(o.ModelPath, baseline, o.ImatrixPath, folder, o.EvalChunks, table.Seed, o.Evaluation, progress);
        var budget = Budget(o, table, model, measurer, ct);
        var cost = RecipeObjectives.Cost(o.Objective, table);
        var options = table.Groups.Select(g => RecipeSolver.MonotoneEnvelope(table.Types
            .Select(t => table.Find(g.Name, t) ?? throw GgufOptimizeException.BadInput($"--sensitivity '{o.SensitivityPath}' has no entry for {g.Name} at {t}"))
            .Select(e => new GroupOption(e.Type, e.AlignedBytes, cost(e))).ToList())).ToList();
        long groupBudget = budget.TensorBytes - table.FixedBytes;
        var picks = RecipeSolver.Solve(options, groupBudget);
        if (picks is null)
        {
            long smallest = table.FixedBytes + options.Sum(g => g.Min(x => x.Bytes));
            throw GgufOptimizeException.BadInput($"the budget ({budget.Kind} {budget.Value}: {budget.TensorBytes:N0} bytes of tensor data) is below the smallest mix of the types in the table ({smallest:N0} bytes); raise it or measure smaller --types");
        }
        var choices = new List<RecipeChoice>();
        for (int g = 0; g < table.Groups.Count; g++)
        {
            var option = options[g][picks[g]];
            var entry = table.Find(table.Groups[g].Name, option.Type)!;
            choices.Add(new RecipeChoice(table.Groups[g].Name, table.Groups[g].Pattern, option.Type, entry.ActualType, entry.Bytes, entry.Delta));
        }
        var rules = Rules(choices, table.Reference);
        string config = stem + ".yaml", arguments = stem + ".tensor-types.txt";
        double predicted = choices.Sum(c => c.Delta), factor = table.AdditivityFactor;
        AtomicFile.WriteAllText(config, ConfigYaml(o.Name, choices, table, budget, predicted * factor));
        AtomicFile.WriteAllText(arguments, string.Concat(choices.Select(c => $"--tensor-type {c.Pattern}={c.Type.ToLowerInvariant()}\n")));

        var recipeType = MixMeasurer.Carrier with { Name = "RECIPE" };
        var (path, plan, _) = measurer.Quantize(o.Name, recipeType, rules, folder, o.Name, ct);
        long fileBytes = new FileInfo(path).Length;
        long alignedTensorBytes = plan.Tensors.Sum(t => SensitivityRun.Align(t.TargetBytes, model.Alignment));
        if (alignedTensorBytes > budget.TensorBytes || (budget.FileBytes is long limit && fileBytes > limit))
            throw GgufOptimizeException.Runtime($"the recipe's model '{path}' came out larger than the budget ({fileBytes:N0} bytes, {alignedTensorBytes:N0} of tensor data; budget {budget.TensorBytes:N0}): llama.cpp stored some tensor differently than the sensitivity run did");

        RecipeMeasurement? measured = null;
        if (!o.SkipMeasure)
        {
            var (stats, chunks, _) = measurer.Compare(path, stem + ".kld.h5", ct);
            double se = chunks.Count > 1 ? StandardError(chunks) : double.NaN;
            measured = new RecipeMeasurement(Path.GetFullPath(baseline!), chunks.Count, stats.Tokens, stats.Average, stats.Score, stats.Median, stats.KLD_99, se);
        }
        var result = new RecipeResult
        {
            Name = o.Name,
            Objective = o.Objective.ToString().ToLowerInvariant(),
            Sensitivity = Path.GetFullPath(o.SensitivityPath),
            Budget = budget,
            Choices = choices,
            ModelPath = path,
            ConfigPath = config,
            ArgumentsPath = arguments,
            FileBytes = fileBytes,
            TensorBytes = plan.TargetBytes,
            BitsPerWeight = plan.BitsPerWeight,
            PredictedDelta = predicted,
            AdditivityFactor = factor,
            PredictedMeanKld = table.ReferenceMeanKld + factor * predicted,
            Measured = measured,
        };
        AtomicFile.WriteAllText(stem + ".recipe.json", RecipeJson.Write(result));
        return result;
    }

    /// <summary>One rule per group (patterns never overlap), then every other tensor at the reference type.</summary>
    public static List<TensorTypeRule> Rules(IEnumerable<RecipeChoice> choices, string reference) =>
        choices.Select(c => new TensorTypeRule(c.Pattern, c.Type)).Append(new TensorTypeRule(".*", reference)).ToList();

    private static RecipeBudget Budget(RecipeOptions o, SensitivityTable table, GgufFile model, MixMeasurer measurer, CancellationToken ct)
    {
        var c = CultureInfo.InvariantCulture;
        if (o.BudgetBpw is double bpw)
        {
            if (!(bpw > 0 && bpw <= 32)) throw GgufOptimizeException.BadInput($"--budget-bpw must be between 0 and 32 (got {bpw.ToString(c)})");
            return new RecipeBudget("bpw", bpw.ToString(c), (long)Math.Floor(bpw * table.TotalElements / 8), null);
        }
        if (o.BudgetSize is string size)
        {
            long bytes = ByteSize.Parse(size, "--budget-size");
            return new RecipeBudget("size", size, bytes - model.DataOffset - HeaderSlack, bytes);
        }
        var type = QuantizationTypes.Parse(o.Like!);
        var plan = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = o.ModelPath, Types = [type], OutputDirectory = o.OutputDirectory, ImatrixPath = o.ImatrixPath, DryRun = true, Threads = o.Evaluation.Threads,
        }, NullProgress.Instance, ct)[0].Plan;
        return new RecipeBudget("like", type.Name, plan.Tensors.Sum(t => SensitivityRun.Align(t.TargetBytes, model.Alignment)), null);
    }

    private static void CheckModel(SensitivityTable table, GgufFile model, string path)
    {
        foreach (var g in table.Groups)
            foreach (var name in g.Tensors)
                if (model.FindTensor(name) is null)
                    throw GgufOptimizeException.BadInput($"--model '{path}' has no tensor '{name}', which the sensitivity table measured: give the model the table was made from");
        if (model.ParameterCount != table.TotalElements)
            throw GgufOptimizeException.BadInput($"--model '{path}' has {model.ParameterCount:N0} weights, the sensitivity table's model {table.TotalElements:N0}: give the model the table was made from");
    }

    private static double StandardError(IReadOnlyList<ChunkMean> chunks)
    {
        var zero = chunks.Select(ch => ch with { MeanKld = 0 }).ToList();
        return PairedDifference.Of(chunks, zero).Se;
    }

    private static string ConfigYaml(string name, IReadOnlyList<RecipeChoice> choices, SensitivityTable table, RecipeBudget budget, double predicted)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(c, $"# gguf-optimize recipe '{name}' from {Path.GetFileName(table.Model)}: budget {budget.Kind} {budget.Value}, predicted mean-KLD increase {predicted:G3}.\n");
        b.Append("# `gguf-optimize quantize --config THIS --model MODEL [--imatrix FILE]` writes the same tensor types.\n");
        b.Append("# Q8_0 only carries the rules: llama.cpp applies tensor-type rules under a quantized file type; every weight is set below.\n");
        b.Append("quantizations:\n  - Q8_0\ntensor_types:\n");
        foreach (var rule in Rules(choices, table.Reference))
            b.Append(c, $"  - '{rule.Pattern}={rule.TypeName.ToLowerInvariant()}'\n");
        return b.ToString();
    }
}
