using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Common;
using GgufOptimize.Workflow;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize demo</c>: the iterative loop end to end on a synthetic model and text sampled from it.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var workdir = new Option<string?>("--workdir") { Description = "Keep every artifact here (a rerun resumes); default: a temporary folder of which only the report is kept" };
        // The demo model is tiny: one thread is fastest, and more only spin when other work shares the cores.
        var threads = new Option<int>("--threads", "-t") { Description = $"CPU threads (0 = physical cores, here {GgufOptimize.Engine.Hardware.PhysicalCores})", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout instead of the table", DefaultValueFactory = _ => false };
        var command = new Command("demo", "Run the whole loop on a synthetic model whose imatrix matters: 2 types, 3 calibration sizes") { workdir, threads, json };
        CommandRunner.SetAction(command, async (parse, ctx, ct) =>
        {
            int t = parse.GetValue(threads);
            if (t < 0) throw GgufOptimizeException.BadInput($"--threads must not be negative (got {t})");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = await DemoRunner.RunAsync(new DemoOptions { Workdir = parse.GetValue(workdir), Threads = t }, ctx.Progress, ct);
            if (parse.GetValue(json))
            {
                Console.Out.Write(IterateCommand.Json(result.Iteration));
                return ExitCodes.Success;
            }
            Console.Out.Write(IterateCommand.Text(result.Iteration));
            Console.Out.WriteLine(result.Kept
                ? $"artifacts kept in {result.Workdir} (rerun with the same --workdir to resume or reuse them)"
                : $"only the report was kept (use --workdir to keep the models, logits and comparisons)");
            Console.Out.WriteLine($"demo finished in {clock.Elapsed.TotalSeconds:F0} s");
            return ExitCodes.Success;
        });
        return command;
    }
}
