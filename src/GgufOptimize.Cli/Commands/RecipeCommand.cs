using System.CommandLine;
using System.Globalization;
using System.Text;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Recipes;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize recipe</c>: a type per tensor group under a size budget, quantized and measured.</summary>
internal static class RecipeCommand
{
    public static Command Create()
    {
        var sensitivity = new Option<string>("--sensitivity") { Description = "Table written by `sensitivity` (JSON)", Required = true };
        var model = new Option<string>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "The model the table was measured on", Required = true };
        var imatrix = new Option<string?>("--imatrix") { Description = "Importance matrix for the quantization (and for --like's reference size)" };
        var bpw = new Option<double?>("--budget-bpw") { Description = "Budget in tensor-data bits per weight (as llama-quantize reports it)" };
        var size = new Option<string?>("--budget-size") { Description = "Budget as a file size, e.g. 4.2G (binary units) or a byte count" };
        var like = new Option<string?>("--like") { Description = "Budget = the tensor data of this llama.cpp type (e.g. Q4_K_M) with the same imatrix" };
        var outputDir = SharedOptions.Output("Folder for the recipe (NAME.yaml, NAME.tensor-types.txt, NAME.recipe.json) and its model", ".", "--output-dir");
        var name = new Option<string>("--name") { Description = "Name of the recipe and stem of its files", Required = true };
        var baseline = new Option<string?>("--baseline-logits") { Description = "Measure against these stored logits (e.g. of held-out text) instead of the table's baseline" };
        var evalChunks = new Option<int?>("--eval-chunks") { Description = "Measure on this many chunks (seeded random sample; default: all)" };
        var objective = new Option<string>("--objective") { Description = "What the choice minimises: mean (mean-KLD increase), score (Score increase of each group alone, weighs the tails), both, or corrected (mean increase × its type's additivity ratio)", DefaultValueFactory = _ => "mean" };
        var noMeasure = new Option<bool>("--no-measure") { Description = "Write the recipe and its model without measuring it" };
        var json = new JsonOption();
        var engine = EngineOptions.Evaluation();
        var command = new Command("recipe", "Choose a type per tensor group that minimises the predicted KL-divergence under a size budget, quantize it and measure it")
        {
            sensitivity, model, imatrix, bpw, size, like, name, baseline, evalChunks, objective, noMeasure, json.Option,
        };
        outputDir.AddTo(command);
        engine.AddTo(command);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var e = engine.Read(parse, parse.GetValue(model), ctx.Progress);
            var result = RecipeRun.Run(new RecipeOptions
            {
                SensitivityPath = parse.GetValue(sensitivity)!,
                ModelPath = parse.GetValue(model)!,
                ImatrixPath = parse.GetValue(imatrix),
                BudgetBpw = parse.GetValue(bpw),
                BudgetSize = parse.GetValue(size),
                Like = parse.GetValue(like),
                OutputDirectory = outputDir.Get(parse)!,
                Name = parse.GetValue(name)!,
                BaselineLogits = parse.GetValue(baseline),
                EvalChunks = parse.GetValue(evalChunks),
                SkipMeasure = parse.GetValue(noMeasure),
                Objective = RecipeObjectives.Parse(parse.GetValue(objective)!),
                Evaluation = e.Evaluation,
            }, ctx.Progress, ct);
            json.Emit(parse, () => RecipeJson.Write(result), () => Render(result));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static string Render(RecipeResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(c, $"{r.Name}: {r.ModelPath}\n");
        b.Append(c, $"  budget {r.Budget.Kind} {r.Budget.Value} = {r.Budget.TensorBytes:N0} bytes of tensor data; written {r.TensorBytes:N0} ({r.BitsPerWeight:F2} bits per weight), file {r.FileBytes:N0} bytes\n");
        foreach (var g in r.Choices.GroupBy(x => x.Type).OrderBy(g => g.Key))
            b.Append(c, $"  {g.Key,-6} {g.Count(),4} group(s): {string.Join(", ", g.Select(x => x.Group).Take(8))}{(g.Count() > 8 ? ", ..." : "")}\n");
        b.Append(c, $"  {"",-22}{"predicted",12}{"measured",12}\n");
        b.Append(c, $"  {"mean KLD",-22}{r.PredictedMeanKld,12:G4}{(r.Measured is { } m ? m.MeanKld.ToString("G4", c) : "-"),12}\n");
        if (r.Measured is { } mm) b.Append(c, $"  {"Score",-22}{"",12}{mm.Score,12:G4}\n");
        b.Append(c, $"  config {r.ConfigPath}; llama-quantize arguments {r.ArgumentsPath}\n");
        return b.ToString();
    }
}
