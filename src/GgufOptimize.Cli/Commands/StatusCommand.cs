using System.CommandLine;
using System.Text.Json.Nodes;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Reporting;
using GgufOptimize.Workflow;

namespace GgufOptimize.Cli.Commands;

/// <summary>
/// <c>gguf-optimize status FILE|DIR</c> (llama-gguf-optimize's check_logits.py): what a baseline, a comparison or an
/// <c>iterate</c> work folder holds, what it lacks as chunk ranges, and what it was made from. Only reads.
/// </summary>
internal static class StatusCommand
{
    private static readonly string[] StoredSuffixes = [".h5", ".hdf5", ".kld", ".h5.partial", ".kld.partial"];

    public static Command Create()
    {
        var target = new Argument<string>("path") { Description = "Baseline logits (ours, llama.cpp .kld, llama-gguf-optimize), comparison file, or iterate work folder" };
        var json = new JsonOption();
        var command = new Command("status", "What a logits file, comparison or work folder holds and lacks (chunk ranges) and what it was made from")
        {
            target, json.Option,
        };
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            string path = parse.GetValue(target)!;
            List<FileStatus> files;
            List<(string Step, bool Done, IReadOnlyList<string> Outputs)>? steps = null;
            if (Directory.Exists(path) && !path.EndsWith(".parts", StringComparison.Ordinal)) (files, steps) = Folder(path);
            else files = [FileStatus.Of(path)];
            json.Emit(parse, () => Json(path, files, steps).ToJsonString(JsonOutput.Options), () => Text(files, steps));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static (List<FileStatus>, List<(string Step, bool Done, IReadOnlyList<string> Outputs)>?) Folder(string folder)
    {
        List<(string, bool, IReadOnlyList<string>)>? steps = IterationState.IsWorkFolder(folder) ? IterationState.Open(folder).Steps().ToList() : null;
        var names = Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Where(p => StoredSuffixes.Any(s => p.EndsWith(s, StringComparison.Ordinal)) || (p.EndsWith(".parts", StringComparison.Ordinal) && Directory.Exists(p)))
            .Where(p => !p.Contains(".parts" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        if (steps is null && names.Count == 0)
            throw GgufOptimizeException.BadInput($"'{folder}' is neither an iterate work folder (no state.json) nor holds logits or comparison files");
        var files = new List<FileStatus>();
        foreach (var name in names)
        {
            try { files.Add(FileStatus.Of(name)); }
            catch (GgufOptimizeException e)
            {
                files.Add(new FileStatus { Path = name, Kind = "unreadable", Finished = false, Notes = [e.Message] });
            }
        }
        return (files, steps);
    }

    private static string Text(List<FileStatus> files, List<(string Step, bool Done, IReadOnlyList<string> Outputs)>? steps)
    {
        var lines = new List<string>();
        if (steps is not null)
        {
            lines.Add($"iterate work folder: {steps.Count(s => s.Done)} of {steps.Count} recorded steps finished");
            foreach (var s in steps) lines.Add($"  {(s.Done ? "done " : "begun")} {s.Step}{(s.Outputs.Count > 0 ? " → " + string.Join(", ", s.Outputs) : "")}");
            lines.Add("");
        }
        lines.AddRange(files.Select(f => f.ToText()));
        return string.Join('\n', lines) + "\n";
    }

    private static JsonObject Json(string path, List<FileStatus> files, List<(string Step, bool Done, IReadOnlyList<string> Outputs)>? steps)
    {
        var root = new JsonObject { ["path"] = path };
        if (steps is not null)
            root["steps"] = new JsonArray(steps.Select(s => (JsonNode?)new JsonObject
            {
                ["step"] = s.Step, ["done"] = s.Done, ["outputs"] = new JsonArray(s.Outputs.Select(o => (JsonNode?)o).ToArray()),
            }).ToArray());
        root["files"] = new JsonArray(files.Select(f => (JsonNode?)f.ToJson()).ToArray());
        return root;
    }
}
