using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Synthetic;

namespace GgufOptimize.Bench;

/// <summary>
/// Per-position entropy of a synthetic model's next-token distributions through llama.cpp, on text sampled from the
/// model itself: the numbers used to tune <see cref="SyntheticModelOptions.LogitScale"/> and
/// <see cref="SyntheticModelOptions.ConfidenceSpread"/> for the realistic preset.
/// </summary>
public sealed class SyntheticEntropyBenchmark : IBenchmark
{
    public string Name => "synthentropy";
    public string Description => "entropy quantiles of synthetic models through llama.cpp [--vocab 32000] [--scale S] [--spread s] [--tokens 1024] [--ctx 256] [--sampled 1]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int vocab = a.Int("vocab", 32000), tokens = a.Int("tokens", 1024), ctx = a.Int("ctx", 256);
        var options = SyntheticModelOptions.Realistic(vocab);
        if (a.Get("scale") is { } s) options = options with { LogitScale = float.Parse(s, System.Globalization.CultureInfo.InvariantCulture) };
        if (a.Get("spread") is { } p) options = options with { ConfidenceSpread = float.Parse(p, System.Globalization.CultureInfo.InvariantCulture) };
        string dir = Path.Combine(Path.GetTempPath(), $"ggufopt-entropy-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            NativeRuntime.Initialize();
            string path = Path.Combine(dir, "m.gguf");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            SyntheticModel.Write(path, options);
            Console.WriteLine($"vocab {vocab}, scale {options.LogitScale}, spread {options.ConfidenceSpread}: written in {clock.Elapsed.TotalSeconds:F1} s ({new FileInfo(path).Length / 1e6:F0} MB)");
            var h = a.Get("sampled") is null ? SyntheticEntropyProbe.MeasureOnVocabularyWords(path, tokens, ctx) : SyntheticEntropyProbe.MeasureOnSampledText(path, tokens, ctx);
            Console.WriteLine($"positions {h.Count}: median {h.Median:F2}, p10 {h.P10:F2}, p90 {h.P90:F2}, p99 {h.P99:F2}, mean {h.Mean:F2} nats (log V = {Math.Log(vocab):F2}); {clock.Elapsed.TotalSeconds:F1} s");
            return 0;
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
