using System.CommandLine;
using System.Globalization;
using System.Text;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Recipes;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize sensitivity</c>: the mean-KLD cost of quantizing each tensor group alone, per candidate type.</summary>
internal static class SensitivityCommand
{
    public static Command Create()
    {
        var model = new Option<string>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "The unquantized (F32/F16/BF16) GGUF model the baseline was made from", Required = true };
        var baseline = new Option<string>("--baseline-logits") { Description = "Stored baseline logits of that model (from `logits`)", Required = true };
        var types = new Option<string>("--types") { Description = "Comma-separated ggml tensor types to try per group (e.g. Q2_K,Q3_K,Q4_K,Q5_K,Q6_K)", Required = true };
        var imatrix = new Option<string?>("--imatrix") { Description = "Importance matrix used for every quantization (use the one the final model will use)" };
        var groups = new Option<string>("--groups") { Description = "layer: one group per layer and tensor kind; tensor: one group per tensor kind over all layers", DefaultValueFactory = _ => "layer" };
        var output = SharedOptions.Output("The sensitivity table (JSON); .csv, .md and -TYPE.png heat maps are written next to it", "sensitivity.json");
        var work = new Option<string?>("--work-dir") { Description = "Folder of finished measurements, reused by a rerun (default: the output path without extension + .work)" };
        var chunks = new Option<int>("--chunks") { Description = "Baseline chunks scored per measurement (the same seeded sample for all)", DefaultValueFactory = _ => 8 };
        var early = new Option<bool>("--early-stopping") { Description = "Stop each measurement once its mean-KLD increase is known to within --margin-of-error at --confidence (the reference is always compared on every chunk)" };
        var margin = new Option<double>("--margin-of-error") { Description = "Relative half-width of the increase's interval that stops a measurement", DefaultValueFactory = _ => SensitivityStopping.DefaultMargin };
        var minChunks = new Option<int>("--min-chunks") { Description = "Chunks compared before early stopping first looks", DefaultValueFactory = _ => SensitivityStopping.DefaultMinChunks };
        var confidence = new Option<double>("--confidence") { Description = "Joint confidence of the early-stopping intervals", DefaultValueFactory = _ => 0.95 };
        var json = new JsonOption();
        var engine = EngineOptions.Evaluation();
        var command = new Command("sensitivity", "Measure how much the KL-divergence grows when only one tensor group is quantized, per group and type")
        {
            model, baseline, types, imatrix, groups,
        };
        output.AddTo(command);
        command.Options.Add(work);
        command.Options.Add(chunks);
        foreach (var o in new Option[] { early, margin, minChunks, confidence }) command.Options.Add(o);
        command.Options.Add(json.Option);
        engine.AddTo(command);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var e = engine.Read(parse, parse.GetValue(model), ctx.Progress);
            string grouping = parse.GetValue(groups)!;
            var mode = grouping.ToLowerInvariant() switch
            {
                "layer" => GroupingMode.Layer,
                "tensor" => GroupingMode.Tensor,
                _ => throw GgufOptimizeException.BadInput($"--groups '{grouping}' must be 'layer' or 'tensor'"),
            };
            var table = SensitivityRun.Run(new SensitivityOptions
            {
                ModelPath = parse.GetValue(model)!,
                BaselineLogits = parse.GetValue(baseline)!,
                Types = parse.GetValue(types)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                ImatrixPath = parse.GetValue(imatrix),
                Grouping = mode,
                OutputPath = output.Get(parse)!,
                WorkDirectory = parse.GetValue(work),
                Chunks = parse.GetValue(chunks),
                EarlyStopping = parse.GetValue(early) ? new SensitivityStopping(parse.GetValue(margin), parse.GetValue(minChunks), parse.GetValue(confidence)) : null,
                Evaluation = e.Evaluation,
            }, ctx.Progress, ct);
            json.Emit(parse, () => RecipeJson.Write(table), () => Render(table));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static string Render(SensitivityTable t)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(c, $"{t.Groups.Count} groups x {t.Types.Count} types on {t.Chunks.Count} chunks ({t.Tokens:N0} tokens); reference {t.Reference}, mean KLD {t.ReferenceMeanKld:G3}\n");
        b.Append(c, $"{"group",-22}").Append(string.Concat(t.Types.Select(x => $"{x,12}"))).Append('\n');
        foreach (var g in t.Groups)
            b.Append(c, $"{g.Name,-22}").Append(string.Concat(t.Types.Select(x => string.Format(c, "{0,12:G3}", t.Find(g.Name, x)?.Delta ?? double.NaN)))).Append('\n');
        foreach (var a in t.Additivity)
            b.Append(c, $"all groups at {a.Type}: predicted {a.Predicted:G3}, measured {a.Measured:G3}\n");
        b.Append(c, $"additivity factor {t.AdditivityFactor:F3}; {t.QuantizeSeconds:F0} s quantizing + {t.KldSeconds:F0} s comparing\n");
        if (t.StoppedEarly > 0)
            b.Append(c, $"early stopping decided {t.StoppedEarly} of {t.Measurements} measurements sooner: {t.ChunksCompared:N0} chunks compared instead of {(long)t.Measurements * t.Chunks.Count:N0}\n");
        return b.ToString();
    }
}
