using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
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
        var engine = EngineOptions.ThreadsOnly(defaultThreads: 1);
        var json = new JsonOption();
        var command = new Command("demo", "Run the whole loop on a synthetic model whose imatrix matters: 2 types, 3 calibration sizes") { workdir };
        engine.AddTo(command);
        command.Options.Add(json.Option);
        CommandRunner.SetAction(command, async (parse, ctx, ct) =>
        {
            int t = engine.Read(parse).Threads;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = await DemoRunner.RunAsync(new DemoOptions { Workdir = parse.GetValue(workdir), Threads = t }, ctx.Progress, ct);
            json.Emit(parse, () => IterateCommand.Json(result.Iteration), () =>
                IterateCommand.Text(result.Iteration) +
                (result.Kept
                    ? $"artifacts kept in {result.Workdir} (rerun with the same --workdir to resume or reuse them)\n"
                    : "only the report was kept (use --workdir to keep the models, logits and comparisons)\n") +
                $"demo finished in {clock.Elapsed.TotalSeconds:F0} s\n");
            return ExitCodes.Success;
        });
        return command;
    }
}
