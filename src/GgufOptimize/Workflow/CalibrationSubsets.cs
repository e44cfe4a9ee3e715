using System.Globalization;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Sources;
using GgufOptimize.Engine;

namespace GgufOptimize.Workflow;

/// <summary>One growing calibration subset: the first <see cref="ChunkEnd"/> chunks of the calibration stream.</summary>
/// <param name="Size">The size asked for, in the plan's unit.</param>
/// <param name="ChunkEnd">Chunks 0 … ChunkEnd−1 of the calibration file make up this subset.</param>
/// <param name="TextTokens">Text tokens in those chunks.</param>
internal sealed record CalibrationSubset(long Size, string Unit, int ChunkEnd, long TextTokens)
{
    public string Label => $"{Size.ToString(CultureInfo.InvariantCulture)} {Unit}";
    /// <summary>Goes into file names: "500-samples".</summary>
    public string Tag => $"{Size.ToString(CultureInfo.InvariantCulture)}-{Unit}";
}

/// <summary>The calibration file the imatrix is computed from, and the subsets as chunk prefixes of it.</summary>
internal sealed record CalibrationData(string TextPath, string Sha256, int TotalChunks, IReadOnlyList<CalibrationSubset> Subsets, IReadOnlyList<string> Notes)
{
    public string Identity => $"{Sha256}|{string.Join(',', Subsets.Select(s => s.ChunkEnd))}";
}

/// <summary>
/// Turns the plan's calibration source and sizes into chunk prefixes of one calibration file, so that each imatrix
/// step only evaluates the new chunks (n_{k−1} … n_k − 1) and merges them into the previous imatrix, which gives the
/// same statistics as computing the larger subset from zero. With sizes in samples the dataset builder writes nested
/// subset files (each a byte prefix of the next) and the largest one is the calibration file; subset k is the chunks
/// that cover its first size_k samples, rounded up to a whole chunk. Tokens are rounded up to whole chunks too.
/// Sizes that add no chunk (the source is exhausted) are dropped with a note.
/// </summary>
internal static class CalibrationSubsets
{
    public const string Folder = "calibration";

    /// <summary>Checks the calibration settings without reading the data (part of the checks before long work).</summary>
    public static void Validate(IterationPlan plan)
    {
        if (plan.Calibration is null) throw GgufOptimizeException.BadInput("no calibration source: set 'calibration' (a text file or a dataset source)");
        if (plan.SubsetSizes.Count == 0) throw GgufOptimizeException.BadInput("no calibration subset sizes: set 'subset_sizes' (e.g. [200, 500, 1000])");
        for (int i = 0; i < plan.SubsetSizes.Count; i++)
        {
            if (plan.SubsetSizes[i] <= 0) throw GgufOptimizeException.BadInput($"subset size {plan.SubsetSizes[i]} must be positive");
            if (i > 0 && plan.SubsetSizes[i] <= plan.SubsetSizes[i - 1])
                throw GgufOptimizeException.BadInput($"subset sizes must increase: {plan.SubsetSizes[i]} follows {plan.SubsetSizes[i - 1]}");
        }
        var spec = SourceSpec.Parse(plan.Calibration, DatasetSourceKinds.Kinds);
        if (spec.Kind != "hf" && !File.Exists(spec.Location) && !Directory.Exists(spec.Location) && !spec.Location.Contains('*'))
            throw GgufOptimizeException.BadInput($"calibration source '{spec.Location}' does not exist");
        if (plan.CalibrationUnit != CalibrationUnit.Samples)
        {
            if (spec.Kind != "text" || !File.Exists(spec.Location))
                throw GgufOptimizeException.BadInput($"calibration_unit {plan.CalibrationUnit.ToString().ToLowerInvariant()} needs one text file as 'calibration'; use calibration_unit samples for dataset sources");
            TextCorpus.Load(spec.Location);
        }
    }

    /// <summary>Text of the largest subset (written by the dataset builder when sizes are in samples).</summary>
    public static async Task<string> PrepareTextAsync(IterationPlan plan, string outputFolder, IProgressSink progress, CancellationToken ct)
    {
        var spec = SourceSpec.Parse(plan.Calibration!, DatasetSourceKinds.Kinds);
        if (plan.CalibrationUnit != CalibrationUnit.Samples) return spec.Location;
        string folder = Path.Combine(outputFolder, Folder);
        var manifest = await NestedSubsets.CreateAsync(plan.Calibration!, plan.SubsetSizes, folder, SubsetOptions(plan), progress, ct);
        return NestedSubsets.Files(manifest, folder)[^1];
    }

    /// <summary>Settings of the sample selection; they are part of the calibration step's identity.</summary>
    public static Datasets.NestedSubsetOptions SubsetOptions(IterationPlan plan) => new()
    {
        Languages = plan.CalibrationLanguages,
        TextField = plan.CalibrationTextField,
        LanguageField = plan.CalibrationLanguageField,
        Shuffle = plan.CalibrationShuffle,
        Seed = plan.CalibrationSeed,
        Existing = Datasets.Output.ExistingOutputMode.Overwrite,
    };

    /// <summary>Chunk prefixes of <paramref name="textPath"/> for the plan's sizes, under the model's chunk rule.</summary>
    public static CalibrationData Plan(IterationPlan plan, string textPath, LlamaModel model, int contextSize)
    {
        var corpus = TextCorpus.Load(textPath);
        var chunks = ChunkPlan.ForModel(model.Tokenize(corpus.Text), contextSize, model.AddBos, model.Bos, model.AddEos, model.Eos);
        int perChunk = chunks.TextTokensPerChunk;
        string unit = plan.CalibrationUnit.ToString().ToLowerInvariant();
        var notes = new List<string>();
        var subsets = new List<CalibrationSubset>();
        string folder = Path.GetDirectoryName(Path.GetFullPath(textPath))!;
        for (int i = 0; i < plan.SubsetSizes.Count; i++)
        {
            long size = plan.SubsetSizes[i];
            long wanted = plan.CalibrationUnit switch
            {
                CalibrationUnit.Chunks => size,
                CalibrationUnit.Tokens => (size + perChunk - 1) / perChunk,
                _ => SamplesChunks(folder, size, model, perChunk, notes),
            };
            int end = (int)Math.Min(wanted, chunks.ChunkCount);
            if (subsets.Count > 0 && end <= subsets[^1].ChunkEnd)
            {
                notes.Add($"calibration size {size} {unit} adds no data: the calibration source ends after {chunks.ChunkCount} chunks ({subsets[^1].Label} already use them all); dropped");
                continue;
            }
            if (wanted > chunks.ChunkCount)
                notes.Add($"calibration size {size} {unit} needs {wanted} chunks, the source has {chunks.ChunkCount}: all of it is used");
            long tokens = Math.Min((long)end * perChunk, chunks.TextTokenCount);
            subsets.Add(new CalibrationSubset(size, unit, end, tokens));
        }
        return new CalibrationData(textPath, corpus.Sha256, chunks.ChunkCount, subsets, notes);
    }

    /// <summary>Chunks covering the subset file of <paramref name="size"/> samples (a byte prefix of the calibration file).</summary>
    private static long SamplesChunks(string folder, long size, LlamaModel model, int perChunk, List<string> notes)
    {
        var manifest = Datasets.Output.DatasetManifest.Load(Path.Combine(folder, "manifest.json"));
        var record = manifest.Subsets.FirstOrDefault(s => s.Size == size)
            ?? throw GgufOptimizeException.Runtime($"the calibration subsets in '{folder}' lack the size {size}");
        if (record.Samples < size)
            notes.Add($"calibration size {size} samples: the source has only {record.Samples} samples, all of it is used");
        long tokens = model.Tokenize(TextCorpus.Load(Path.Combine(folder, record.File)).Text).LongLength;
        return (tokens + perChunk - 1) / perChunk;
    }
}
