using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Reporting;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize report</c>: table and plots from any set of comparison files (ours or llama-gguf-optimize's).</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("comparisons") { Description = "Comparison files (HDF5) from kld or iterate, or from llama-gguf-optimize", Arity = ArgumentArity.OneOrMore };
        var output = SharedOptions.Output("Folder for report.md/.json/.csv/.html and the PNG plots", "report");
        var json = new JsonOption();
        var csv = new Option<bool>("--csv") { Description = "Print the table as CSV on stdout instead of Markdown", DefaultValueFactory = _ => false };
        var confidence = new Option<double>("--confidence") { Description = "Confidence of the Score intervals and of the paired changes", DefaultValueFactory = _ => 0.95 };
        var minImprovement = new Option<double>("--min-improvement") { Description = "Relative improvement below which a step counts as diminishing returns", DefaultValueFactory = _ => 0.01 };
        var resamples = new Option<int>("--resamples") { Description = "Bootstrap resamples", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Bootstrap seed", DefaultValueFactory = _ => 20240607UL };
        var sensitivity = new Option<string?>("--sensitivity") { Description = "A table from `sensitivity` (JSON): its heat maps are added to the report" };
        var title = new Option<string>("--title") { Description = "Title of the HTML page", DefaultValueFactory = _ => "gguf-optimize report" };

        var command = new Command("report", "Table (Markdown, JSON, CSV), PNG plots and one HTML page from comparison files")
        {
            files,
        };
        output.AddTo(command);
        foreach (var o in new Option[] { json.Option, csv, confidence, minImprovement, resamples, seed, title, sensitivity }) command.Options.Add(o);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            double c = parse.GetValue(confidence), m = parse.GetValue(minImprovement);
            int r = parse.GetValue(resamples);
            if (!(c > 0 && c < 1)) throw GgufOptimizeException.BadInput($"--confidence must be between 0 and 1 (got {c})");
            if (!(m >= 0 && m < 1)) throw GgufOptimizeException.BadInput($"--min-improvement must be in [0, 1) (got {m})");
            BootstrapOptions.CheckResamples(r, "--resamples");
            var options = new ReportOptions
            {
                Bootstrap = new BootstrapOptions(r, c, parse.GetValue(seed), Hardware.PhysicalCores), MinImprovement = m, SensitivityPath = parse.GetValue(sensitivity),
            };
            var written = IterationReportWriter.Write(parse.GetValue(files)!, output.Get(parse)!, options, parse.GetValue(title));
            json.Emit(parse, () => File.ReadAllText(written.Json), () => parse.GetValue(csv)
                ? File.ReadAllText(written.Csv)
                : File.ReadAllText(written.Markdown) + $"\nreport: {written.Html} ({written.Images.Count} plots)\n");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
