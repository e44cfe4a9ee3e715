using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Imatrix;

namespace GgufOptimize.Quantization;

/// <summary>
/// An importance matrix made ready for llama.cpp's quantizer, as llama-quantize prepares it: filtered by
/// --include/--exclude-weights, checked against the model, reduced to per-column mean squared activations.
/// </summary>
internal sealed record PreparedImatrix(string Path, IReadOnlyList<KeyValuePair<string, float[]>> Values, string? Dataset, int ChunkCount)
{
    public bool Covers(string tensor) => Values.Any(v => v.Key == tensor);

    /// <summary>
    /// The provenance keys llama-quantize writes into a model quantized with an imatrix; the imatrix path is recorded
    /// relative to the model's folder (llama-quantize records it as typed), so the model does not depend on the folder.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object>> Provenance(string outputPath)
    {
        var keys = new List<KeyValuePair<string, object>> { new(GgufKeys.ImatrixFile, RecordedPath.Of(Path, outputPath)) };
        if (Dataset is not null) keys.Add(new(GgufKeys.ImatrixDataset, Dataset));
        keys.Add(new(GgufKeys.ImatrixEntries, Values.Count));
        if (ChunkCount > 0) keys.Add(new(GgufKeys.ImatrixChunks, ChunkCount));
        return keys;
    }

    public static PreparedImatrix Load(QuantizeOptions options, GgufFile model)
    {
        string path = options.ImatrixPath!;
        if (options.IncludeWeights.Count > 0 && options.ExcludeWeights.Count > 0)
            throw GgufOptimizeException.BadInput("--include-weights and --exclude-weights cannot be used together");
        var matrix = ImatrixFile.Load(path, options.LegacyImatrixChunkSize);

        var entries = matrix.Entries.Where(e =>
            (options.IncludeWeights.Count == 0 || options.IncludeWeights.Any(w => e.Name.Contains(w, StringComparison.Ordinal)))
            && !options.ExcludeWeights.Any(w => e.Name.Contains(w, StringComparison.Ordinal))).ToList();
        if (entries.Count == 0)
            throw GgufOptimizeException.BadInput($"no entry of imatrix '{path}' is left after --include-weights/--exclude-weights");

        var missing = entries.Where(e => model.FindTensor(e.Name) is null).Select(e => e.Name).ToList();
        if (missing.Count > 0)
            throw GgufOptimizeException.BadInput($"imatrix '{path}' names {missing.Count} tensor(s) that model '{model.Path}' does not have (e.g. '{missing[0]}'): it was computed for another model");
        foreach (var e in entries)
        {
            var t = model.Tensor(e.Name);
            long columns = t.Dimensions[0] * (t.Dimensions.Count > 2 ? t.Dimensions[2] : 1);
            if (e.Sums.Length != columns)
                throw GgufOptimizeException.BadInput($"imatrix '{path}' has {e.Sums.Length} values for '{e.Name}' but the model's tensor has {columns} input columns: it was computed for another model");
        }
        return new PreparedImatrix(path, entries.Select(e => new KeyValuePair<string, float[]>(e.Name, e.MeanSquares())).ToList(),
            matrix.Datasets.Count > 0 ? matrix.Datasets[0] : null, matrix.ChunkCount);
    }
}
