using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Reporting;
using GgufOptimize.Workflow;

namespace GgufOptimize.Cli.Commands;

/// <summary>
/// <c>gguf-optimize iterate</c>: the whole loop from a plan file and/or options. Every plan key is also an option
/// (<c>subset_sizes</c> ↔ <c>--subset-sizes</c>); an option given on the command line wins over the file.
/// </summary>
internal static class IterateCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Plan file (YAML) with the keys below without dashes, e.g. 'subset_sizes: [200, 500]'" };
        var json = new JsonOption();
        var defaults = new IterationPlan();
        var keyOptions = PlanFile.ValidKeys.Select(key =>
        {
            string? shown = PlanFile.Show(key, defaults);
            string name = PlanFile.OptionName(key);
            // A key that is also a shared option (model, output, threads, ...) gets its short spelling and help text.
            var shared = OptionVocabulary.ByName.GetValueOrDefault(name);
            string description = shared is { SharedDescription: true } ? shared.Description : PlanFile.Describe(key);
            // The engine options' shared text already names llama.cpp's default.
            if (shown is not null && !description.Contains("(default:", StringComparison.Ordinal)) description += $" (default: {shown})";
            string[] aliases = shared?.Aliases ?? [];
            Option option = PlanFile.IsFlag(key)
                ? new Option<bool>(name, aliases) { Description = description + "; a bare flag means true" }
                : new Option<string?>(name, aliases) { Description = description };
            return (Key: key, Option: option);
        }).ToList();

        var command = new Command("iterate", "Quantize, compare, grow the imatrix data until diminishing returns; writes a report") { config, json.Option };
        foreach (var (_, option) in keyOptions) command.Options.Add(option);
        CommandRunner.SetAction(command, async (parse, ctx, ct) =>
        {
            var plan = parse.GetValue(config) is { } file ? PlanFile.Load(file) : new IterationPlan();
            // Only options actually given override the plan file.
            foreach (var (key, option) in keyOptions)
            {
                string? text = option switch
                {
                    Option<bool> flag => parse.GetResult(flag) is null ? null : parse.GetValue(flag) ? "true" : "false",
                    Option<string?> value => parse.GetValue(value),
                    _ => null,
                };
                if (text is not null) plan = PlanFile.Apply(plan, PlanFile.PlanValue.Scalar(key, text), $"option {PlanFile.OptionName(key)}");
            }
            var result = await IterationLoop.RunAsync(plan, ctx.Progress, ct);
            json.Emit(parse, () => Json(result), () => Text(result));
            return ExitCodes.Success;
        });
        return command;
    }

    internal static string Text(IterationResult result)
    {
        var sb = new StringBuilder();
        string folder = result.ReportFolder!;
        string table = File.ReadAllText(Path.Combine(folder, "report.md"));
        sb.Append(table);
        sb.AppendLine();
        // The table's verdicts already say why a type stopped; the loop adds only what the files cannot tell.
        foreach (var t in result.Types.Where(t => !table.Contains(t.StopReason, StringComparison.Ordinal)))
            sb.AppendLine($"{t.Type}: {t.StopReason}.");
        foreach (var note in result.Notes) sb.AppendLine($"note: {note}");
        sb.AppendLine($"{result.StepsRun} step(s) run, {result.StepsReused} reused; every comparison scored on {result.EvaluationChunks} chunks");
        sb.AppendLine($"report: {Path.Combine(folder, "report.html")} (also report.md, report.json, report.csv and the PNG plots)");
        return sb.ToString();
    }

    internal static string Json(IterationResult result)
    {
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(result.ReportFolder!, "report.json")))!.AsObject();
        var stops = new JsonObject();
        foreach (var t in result.Types) stops[t.Type] = t.StopReason;
        var notes = new JsonArray();
        foreach (var n in result.Notes) notes.Add(n);
        report["stop_reasons"] = stops;
        report["loop_notes"] = notes;
        report["evaluation_chunks"] = result.EvaluationChunks;
        report["steps_run"] = result.StepsRun;
        report["steps_reused"] = result.StepsReused;
        report["output_folder"] = result.OutputFolder;
        report["report_folder"] = result.ReportFolder;
        return report.ToJsonString(JsonOutput.Options) + "\n";
    }
}
