using System.Diagnostics;
using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Imatrix;
using GgufOptimize.Quantization;
using GgufOptimize.Synthetic;

namespace GgufOptimize.Bench;

/// <summary>
/// Quantization time per type for a synthetic ~100M-parameter F16 model (n_embd 768, 10 layers, 32k vocab), without
/// and with an importance matrix, plus the time the dry-run planning of all types takes.
/// </summary>
public sealed class QuantizeBenchmark : IBenchmark
{
    public string Name => "quantize";
    public string Description => "quantization time per type, synthetic ~100M params [--dim 768] [--layers 10] [--types Q8_0,...] [--imatrix-types Q4_K_M,IQ2_XS] [--threads 0]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int dim = a.Int("dim", 768), layers = a.Int("layers", 10), vocab = a.Int("vocab", 32000), threads = a.Int("threads", 0);
        var types = QuantizationTypes.ParseList(a.Get("types") ?? "Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0,IQ4_XS,Q3_K_M,Q2_K");
        var imatrixTypes = QuantizationTypes.ParseList(a.Get("imatrix-types") ?? "Q4_K_M,IQ2_XS");
        string dir = Directory.CreateTempSubdirectory("ggufopt-quantize-bench-").FullName;
        try
        {
            string model = Path.Combine(dir, "synthetic-f16.gguf");
            var options = new SyntheticModelOptions { EmbeddingLength = dim, LayerCount = layers, VocabSize = vocab, HeadCount = dim / 64, ContextLength = 512, WeightType = Gguf.GgmlType.F16, Seed = 5 };
            SyntheticModel.Write(model, options);
            long inputBytes = new FileInfo(model).Length;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"model: synthetic llama n_embd {dim}, {layers} layers, vocab {vocab}, F16, {options.ParameterCount / 1e6:F1}M parameters, {inputBytes / 1e6:F0} MB; threads {(threads > 0 ? threads : Hardware.PhysicalCores)}"));

            // A small imatrix from random tokens: enough for the types that need one.
            string text = string.Join(' ', Enumerable.Range(0, 3000).Select(i => $"w{i * 7919 % 1000}"));
            File.WriteAllText(Path.Combine(dir, "calib.txt"), text);
            long start = Stopwatch.GetTimestamp();
            var im = ImatrixBuilder.Run(new ImatrixOptions { ModelPath = model, DatasetPath = Path.Combine(dir, "calib.txt"), OutputPath = Path.Combine(dir, "imatrix.gguf"), ContextSize = 512, Chunks = 4, Threads = threads }, NullProgress.Instance);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"imatrix: {im.ChunkCount} chunks, {im.TokensPerSecond:F0} tok/s, {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s"));

            var baseOptions = new QuantizeOptions { ModelPath = model, OutputDirectory = dir, Types = types, Threads = threads };
            start = Stopwatch.GetTimestamp();
            ModelQuantizer.Run(baseOptions with { DryRun = true }, NullProgress.Instance);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dry-run planning of {types.Count} types: {Stopwatch.GetElapsedTime(start).TotalSeconds:F2} s"));

            Console.WriteLine("| type | imatrix | seconds | output MB | bits/weight | input MB/s |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var (type, withImatrix) in types.Select(t => (t, false)).Concat(imatrixTypes.Select(t => (t, true))))
            {
                var outcome = ModelQuantizer.Run(baseOptions with { Types = [type], ImatrixPath = withImatrix ? im.OutputPath : null }, NullProgress.Instance).Single();
                double s = outcome.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {type.Name} | {(withImatrix ? "yes" : "no")} | {s:F2} | {outcome.FileBytes / 1e6:F1} | {outcome.Plan.BitsPerWeight:F2} | {inputBytes / 1e6 / s:F0} |"));
                File.Delete(outcome.OutputPath);
            }
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
