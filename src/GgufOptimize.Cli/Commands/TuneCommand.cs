using System.CommandLine;
using System.Globalization;
using System.Text;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Tuning;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize tune</c>: measure decode speed at candidate batch/ubatch/threads and write tune.json for --tuning.</summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var model = new Option<string>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "GGUF model to tune for", Required = true };
        var dataset = new Option<string?>(OptionVocabulary.Dataset.Name, OptionVocabulary.Dataset.Aliases) { Description = "UTF-8 text whose first chunks are decoded (default: seeded random tokens; speed does not depend on the words)" };
        var output = SharedOptions.Output("tune.json to write (for --tuning in logits, kld and imatrix)", "tune.json");
        var engine = EngineOptions.Tuning();
        var chunks = new Option<int>("--chunks") { Description = $"Chunks decoded per timed trial; 0 = enough for {TuneJob.MinTokensPerTrial} tokens and {TuneJob.MinSecondsPerTrial} s at the defaults (at most {TuneJob.MaxChunksPerTrial})", DefaultValueFactory = _ => 0, HelpName = "N" };
        var repeats = new Option<int>("--repeats") { Description = "Paired trials a candidate must win, all of them, to replace the current best (sign test: p = 2^-N)", DefaultValueFactory = _ => TuningRule.DefaultRepeats, HelpName = "N" };
        var minGain = new Option<double>("--min-gain") { Description = "Smallest median paired speed-up that changes the recommendation (0.02 = 2 %)", DefaultValueFactory = _ => TuningRule.DefaultMinGain, HelpName = "F" };
        var maxTrials = new Option<int>("--max-trials") { Description = "Cap on timed trials, the final check against the defaults included", DefaultValueFactory = _ => TuningSearch.DefaultMaxTrials, HelpName = "N" };
        var overwrite = SharedOptions.Overwrite();
        var json = new JsonOption();

        var command = new Command("tune", "Measure decode speed at candidate batch, ubatch and thread settings (a small paired search from the defaults) and write the recommendation for --tuning")
        {
            model, dataset,
        };
        output.AddTo(command);
        engine.AddTo(command);
        foreach (var o in new Option[] { chunks, repeats, minGain, maxTrials }) command.Options.Add(o);
        overwrite.AddTo(command);
        command.Options.Add(json.Option);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var e = engine.Read(parse, parse.GetValue(model), ctx.Progress);
            var result = TuneJob.Run(new TuneOptions
            {
                ModelPath = parse.GetValue(model)!,
                DatasetPath = parse.GetValue(dataset),
                OutputPath = output.Get(parse)!,
                ContextSize = e.ContextSize,
                Threads = e.Threads,
                Engine = e.Engine,
                ChunksPerTrial = parse.GetValue(chunks),
                Rule = new TuningRule { Repeats = parse.GetValue(repeats), MinGain = parse.GetValue(minGain) },
                MaxTrials = parse.GetValue(maxTrials),
                Overwrite = overwrite.Get(parse),
            }, ctx.Progress, ct);
            json.Emit(parse, () => TuningFile.ToJson(result), () => Render(result));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    internal static string Render(TuneResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(c, $"{r.Model.FileName}, context {r.ContextSize}: {r.TokensPerTrial} tokens per trial ({r.TextSource}), {r.Trials} trials of at most {r.MaxTrials} ({(r.Stop == TuningStop.Converged ? "search converged" : "trial cap reached")}), load {r.Machine.LoadAverage}\n\n");
        int width = Math.Max(7, r.Table.Select(row => row.Setting.Arguments.Length).DefaultIfEmpty(0).Max());
        b.Append(c, $"{"setting".PadRight(width)}  {"tok/s",10}  {"repeats",7}  {"vs defaults",11}\n");
        foreach (var row in r.Table)
        {
            string rel = row.RelativeToDefaults is { } x ? x.ToString("0.000", c) + "×" : "-";
            string note = row.Setting == r.Recommended && row.Setting == r.Defaults ? "  defaults, recommended"
                : row.Setting == r.Recommended ? "  recommended" : row.Setting == r.Defaults ? "  defaults" : "";
            b.Append(c, $"{row.Setting.Arguments.PadRight(width)}  {row.TokensPerSecond,10:F1}  {row.Repeats,7}  {rel,11}{note}\n");
        }
        b.Append('\n');
        if (r.Recommended == r.Defaults)
            b.Append(c, $"recommended: the defaults ({r.Defaults}); no candidate beat them under the rule\n");
        else
            b.Append(c, $"recommended: {r.Recommended} — {r.SpeedupOverDefaults:0.000}× the defaults' speed ({r.Defaults}), faster in all {r.Confirmation!.Pairs.Count} paired trials of the final check\n");
        b.Append(c, $"rule: {r.Rule.Describe()}\n");
        b.Append(c, $"written to {r.OutputPath}; use it with: --tuning {r.OutputPath}\n");
        return b.ToString();
    }
}
