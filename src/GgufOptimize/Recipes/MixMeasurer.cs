using System.Diagnostics;
using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Quantization;

namespace GgufOptimize.Recipes;

/// <summary>
/// Quantizes the model with a list of tensor-type rules and compares it with the stored baseline on a fixed sample
/// of chunks. llama.cpp applies tensor-type overrides only under a quantized, non-pure file type, so the mix is
/// asked for as Q8_0 with every tensor pinned by a rule; tensors pinned to their own stored type are copied, not
/// converted, so only the changed tensors cost quantization time.
/// </summary>
internal sealed class MixMeasurer(string modelPath, string baselineLogits, string? imatrixPath, string workDirectory, int? sampleChunks, ulong seed,
    GgufOptimize.Engine.EvaluationSettings evaluation, IProgressSink progress)
{
    /// <summary>The file type the mixes are requested under (see the class comment).</summary>
    public static readonly QuantizationType Carrier = QuantizationTypes.Parse("Q8_0");

    public string ResultPath(string id) => Path.Combine(workDirectory, "results", id + ".json");

    /// <summary>
    /// The stored measurement of <paramref name="id"/>, or a new one (then stored atomically). With
    /// <paramref name="stopping"/>, the comparison grows look by look and ends once the increase over
    /// <paramref name="reference"/> is decided; each look extends the same resumable comparison file.
    /// </summary>
    public MixMeasurement Measure(string id, IReadOnlyList<TensorTypeRule> rules, CancellationToken ct,
        SensitivityStopping? stopping = null, IReadOnlyList<ChunkMean>? reference = null)
    {
        string resultPath = ResultPath(id);
        if (File.Exists(resultPath)) return RecipeJson.Read<MixMeasurement>(resultPath, "measurement");
        var (model, plan, quantizeSeconds) = Quantize(id, Carrier, rules, Path.Combine(workDirectory, "models"), id, ct);
        string kldFile = Path.Combine(workDirectory, "kld", id + ".h5");
        var (stats, chunks, kldSeconds) = stopping is null || reference is null ? Compare(model, kldFile, ct) : CompareUntilDecided(model, kldFile, stopping, reference, ct);
        var result = new MixMeasurement
        {
            Id = id,
            MeanKld = stats.Average,
            Score = stats.Score,
            Tokens = stats.Tokens,
            Chunks = chunks,
            TensorBytes = plan.TargetBytes,
            TensorTypes = plan.Tensors.ToDictionary(t => t.Name, t => t.TargetType),
            TensorSizes = plan.Tensors.ToDictionary(t => t.Name, t => t.TargetBytes),
            QuantizeSeconds = quantizeSeconds,
            KldSeconds = kldSeconds,
            StoppedEarly = chunks.Count < (reference?.Count ?? chunks.Count),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(resultPath)!);
        AtomicFile.WriteAllText(resultPath, RecipeJson.Write(result));
        AtomicFile.TryDelete(model);
        AtomicFile.TryDelete(kldFile);
        return result;
    }

    /// <summary>Compares the first n chunks of the sample at each look, stopping at the first decided one (else all of them).</summary>
    private (Metrics.KldStatistics Stats, IReadOnlyList<ChunkMean> Chunks, double Seconds) CompareUntilDecided(string model, string kldFile,
        SensitivityStopping stopping, IReadOnlyList<ChunkMean> reference, CancellationToken ct)
    {
        double seconds = 0;
        foreach (int n in stopping.Looks(reference.Count))
        {
            var (stats, chunks, s) = Compare(model, kldFile, ct, n);
            seconds += s;
            var look = stopping.Look(chunks, reference, reference.Count);
            progress.Info(FormattableString.Invariant($"  look at {n} of {reference.Count} chunks: increase {look.Delta:G3} ± {look.HalfWidth:G3}{(look.Stop ? ", decided" : "")}"));
            if (look.Stop) return (stats, chunks, seconds);
        }
        var all = Compare(model, kldFile, ct, reference.Count);
        return (all.Stats, all.Chunks, seconds + all.Seconds);
    }
    /// <summary>Writes the mix as a model: the carrier file type with the rules (our rules first), returns its path and plan.</summary>
    public (string Path, QuantizePlan Plan, double Seconds) Quantize(string what, QuantizationType type, IReadOnlyList<TensorTypeRule> rules, string folder, string name, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var outcome = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = modelPath, Types = [type], OutputDirectory = folder, Name = name, ImatrixPath = imatrixPath,
            TensorTypes = rules, Threads = evaluation.Threads, Overwrite = true,
        }, progress, ct)[0];
        progress.Info($"{what}: quantized in {clock.Elapsed.TotalSeconds:F1} s");
        return (outcome.OutputPath, outcome.Plan, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The comparison of a written model with the baseline on the sample; the comparison file is resumable.</summary>
    /// <param name="sample">The first this many chunks of the seeded order; null = the measurer's own sample.</param>
    public (Metrics.KldStatistics Stats, IReadOnlyList<ChunkMean> Chunks, double Seconds) Compare(string model, string outputFile, CancellationToken ct, int? sample = null)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(Path.GetDirectoryName(outputFile)!);
        var result = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = baselineLogits, TargetModel = model, OutputFile = outputFile, SampleChunks = sample ?? sampleChunks, Seed = seed,
            Threads = evaluation.Threads, ContextSize = evaluation.ContextSize, BatchSize = evaluation.BatchSize, UBatchSize = evaluation.UBatchSize,
            Engine = evaluation.Engine, Clobber = true,
        }, progress, ct);
        var chunks = result.Chunks.Select(c => new ChunkMean(c.ChunkIndex, c.Kld.Count(double.IsFinite), MeanOf(c.Kld))).ToList();
        return (result.Overall, chunks, clock.Elapsed.TotalSeconds);
    }

    private static double MeanOf(double[] values)
    {
        double sum = 0;
        int n = 0;
        foreach (double v in values)
            if (double.IsFinite(v)) { sum += v; n++; }
        return n == 0 ? double.NaN : sum / n;
    }
}
