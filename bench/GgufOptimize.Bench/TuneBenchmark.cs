using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Tuning;

namespace GgufOptimize.Bench;

/// <summary>
/// What <c>tune</c> recommends on the models in ../shared and on the synthetic 32k model (n_embd 256, 2 layers,
/// context 512), with its speed over the defaults from the final paired check of the same run, the trials it
/// used and the load average at the start of each search.
/// </summary>
public sealed class TuneBenchmark : IBenchmark
{
    public string Name => "tune";
    public string Description => "tune's recommendation vs the defaults on the shared models and the synthetic 32k model [--shared ../shared] [--dir /tmp] [--max-trials 60] [--repeats 5]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int maxTrials = a.Int("max-trials", TuningSearch.DefaultMaxTrials), repeats = a.Int("repeats", TuningRule.DefaultRepeats);
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-bench-tune-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            NativeRuntime.Initialize();
            var models = new List<(string Name, string Path, int Context)>();
            if ((a.Get("shared") ?? SharedFolder.Find()) is { } shared)
            {
                models.Add(("aidreams260K-f32", Path.Combine(shared, "models", "aidreams260K-f32.gguf"), 0));
                models.Add(("llama-2-tiny-random", Path.Combine(shared, "models", "llama-2-tiny-random.gguf"), 512));
            }
            else Console.WriteLine("../shared not found: only the synthetic model is measured");
            models.Add(("synthetic 32k, n_embd 256, 2 layers, F16", SyntheticWorkload.WriteModel(dir, 256, 2, 512), 512));

            Console.WriteLine("| model | context | defaults | recommended | speed vs defaults (final check, median of paired ratios) | trials | best other measured (median ratio) | load at start |");
            Console.WriteLine("|---|---:|---|---|---:|---:|---|---|");
            foreach (var (name, path, context) in models)
            {
                string output = Path.Combine(dir, "tune.json");
                var r = TuneJob.Run(new TuneOptions
                {
                    ModelPath = path, OutputPath = output, ContextSize = context, MaxTrials = maxTrials,
                    Rule = new TuningRule { Repeats = repeats }, Overwrite = true,
                }, NullProgress.Instance);
                var c = CultureInfo.InvariantCulture;
                var best = r.Table.FirstOrDefault(row => row.Setting != r.Defaults && row.Setting != r.Recommended && row.RelativeToDefaults is not null);
                string bestText = best is null ? "-" : string.Create(c, $"{best.Setting} ({best.RelativeToDefaults:0.00}×, {best.Repeats} trials)");
                string check = r.Confirmation is { } k ? string.Create(c, $"{r.SpeedupOverDefaults:0.000}× ({k.Pairs.Count(p => p.ChallengerFaster)}/{k.Pairs.Count} pairs faster)") : "1 (defaults kept)";
                Console.WriteLine(string.Create(c, $"| {name} | {r.ContextSize} | {r.Defaults} | {r.Recommended} | {check} | {r.Trials} ({r.Stop.ToString().ToLowerInvariant()}) | {bestText} | {r.Machine.LoadAverage} |"));
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
