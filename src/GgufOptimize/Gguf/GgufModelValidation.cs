using System.Globalization;
using GgufOptimize.Common;

namespace GgufOptimize.Gguf;

/// <summary>
/// Checks our own reading of a model before llama.cpp sees it. llama.cpp trusts some header values so far that a
/// bad one crashes the process instead of failing the load: a tensor dimension of 0 divides by zero (SIGFPE), a
/// block_count far above the layers present aborts (exit 134), a head count of 0 divides by zero. Each check here is
/// one llama.cpp would otherwise make by crashing, or a shape llama.cpp would reject with a less direct message.
/// </summary>
/// <remarks>
/// The checks are split so they compose with models stored in several files: <see cref="FileProblems"/> looks at
/// one file's tensor list against its own data section, <see cref="ModelProblems"/> at the metadata and every
/// tensor of the model (all files together).
/// </remarks>
internal static class GgufModelValidation
{
    /// <summary>At most this many problems are named in one message (the rest are counted).</summary>
    private const int ShownProblems = 3;

    /// <summary>
    /// Reads <paramref name="path"/> and refuses it (BadInput naming the file) when it has any problem; takes the result
    /// of a <see cref="GgufHeaderPrefetch"/> of the same file when one was started.
    /// </summary>
    public static GgufFile ReadChecked(string path) => GgufHeaderPrefetch.Take(path) ?? ReadCheckedNow(path);

    /// <summary><see cref="ReadChecked"/> without looking for a prefetched result.</summary>
    internal static GgufFile ReadCheckedNow(string path)
    {
        var file = GgufFile.Read(path);
        Require(file);
        return file;
    }

    /// <summary>Refuses <paramref name="file"/> (BadInput naming it and the first problems) when it has any.</summary>
    public static void Require(GgufFile file)
    {
        var problems = Problems(file);
        if (problems.Count == 0) return;
        // Tensor names come from the file: a control character in one must not break the one-line message.
        string shown = new(string.Join("; ", problems.Take(ShownProblems)).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        string more = problems.Count > ShownProblems ? $" (and {problems.Count - ShownProblems} more)" : "";
        throw GgufOptimizeException.BadInput($"model '{file.Path}' is inconsistent: {shown}{more}; it is not a usable model (re-convert or re-download it)");
    }

    /// <summary>
    /// Every problem of a model: each file's tensors against its own data section, then the model checks over all
    /// tensors (a split model read through <see cref="GgufFile.Read"/> holds every shard).
    /// </summary>
    public static IReadOnlyList<string> Problems(GgufFile file)
    {
        var problems = file.Shards.SelectMany(s => FileProblems(s.Tensors, s.FileLength - s.DataOffset)).ToList();
        // A lone shard read on its own (not through the split reader) holds only some tensors: the model-wide checks
        // need all of them together.
        bool loneShard = file.Shards.Count == 1 && file.Metadata.GetInteger(SplitCountKey) is not (null or 0 or 1);
        if (!loneShard) problems.AddRange(ModelProblems(file.Metadata, file.Tensors));
        return problems;
    }

    /// <summary>The metadata key llama.cpp's gguf-split writes into every part of a split model.</summary>
    public const string SplitCountKey = "split.count";

    /// <summary>One file's tensors: no zero dimension, every tensor inside the data section, no two overlapping.</summary>
    public static IEnumerable<string> FileProblems(IReadOnlyList<GgufTensorInfo> tensors, long dataLength)
    {
        foreach (var t in tensors)
        {
            int zero = -1;
            for (int d = 0; d < t.Dimensions.Count; d++) if (t.Dimensions[d] <= 0) { zero = d; break; }
            if (zero >= 0) yield return $"tensor '{t.Name}' has dimension {zero} of size {t.Dimensions[zero]} (shape {t.ShapeText})";
        }
        var ordered = tensors.Where(t => t.Dimensions.All(d => d > 0)).OrderBy(t => t.Offset).ToList();
        for (int i = 0; i < ordered.Count; i++)
        {
            var t = ordered[i];
            long end = t.Offset + t.ByteSize;
            if (t.Offset < 0 || end > dataLength)
                yield return $"tensor '{t.Name}' data [{t.Offset:N0}, {end:N0}) lies outside the data section of {dataLength:N0} bytes";
            else if (i + 1 < ordered.Count && end > ordered[i + 1].Offset)
                yield return $"tensors '{t.Name}' and '{ordered[i + 1].Name}' overlap (data [{t.Offset:N0}, {end:N0}) and from {ordered[i + 1].Offset:N0})";
        }
    }

    /// <summary>The hyper-parameters against each other and against the shapes of <paramref name="tensors"/> (every tensor of the model).</summary>
    public static IEnumerable<string> ModelProblems(GgufMetadata metadata, IReadOnlyList<GgufTensorInfo> tensors)
    {
        string? arch = metadata.GetString(GgufKeys.Architecture);
        if (arch is null) yield break; // not a model (an imatrix, a vocabulary-only file): nothing llama.cpp would build
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);

        long? blocks = Scalar(metadata, GgufKeys.BlockCount(arch));
        long? embd = Scalar(metadata, GgufKeys.EmbeddingLength(arch));
        long? ff = Scalar(metadata, GgufKeys.FeedForwardLength(arch));
        long? heads = Scalar(metadata, GgufKeys.HeadCount(arch));
        long? headsKv = Scalar(metadata, GgufKeys.HeadCountKv(arch));
        long? vocab = metadata.TryGet(GgufKeys.Tokens, out var tokens) && tokens.IsArray ? tokens.Count : null;

        foreach (var (key, value) in new[] { (GgufKeys.BlockCount(arch), blocks), (GgufKeys.EmbeddingLength(arch), embd), (GgufKeys.HeadCount(arch), heads), (GgufKeys.HeadCountKv(arch), headsKv) })
            if (value is <= 0) yield return $"{key} is {value} (must be at least 1)";
        if (heads is > 0 && headsKv is > 0 && heads % headsKv != 0)
            yield return $"{GgufKeys.HeadCount(arch)} {heads} is not a multiple of {GgufKeys.HeadCountKv(arch)} {headsKv}";

        if (blocks is > 0)
        {
            var layers = new SortedSet<long>();
            foreach (var t in tensors)
                if (BlockIndex(t.Name) is { } b) layers.Add(b);
            if (layers.Count > 0)
            {
                long missing = 0, firstMissing = -1;
                for (long b = 0; b < blocks; b++)
                    if (!layers.Contains(b)) { missing++; if (firstMissing < 0) firstMissing = b; }
                if (missing > 0)
                    yield return $"{GgufKeys.BlockCount(arch)} is {blocks} but {missing} of those layers have no tensors (first: blk.{firstMissing}; the file has blk.* tensors for {layers.Count} layers)";
                if (layers.Max >= blocks)
                    yield return $"tensor blk.{layers.Max}.* belongs to a layer beyond {GgufKeys.BlockCount(arch)} {blocks}";
            }
        }

        // Shapes llama.cpp derives from the hyper-parameters (ggml's ne0 first); only names whose shape is the same in
        // every architecture that has them.
        foreach (string name in new[] { "token_embd.weight", "output.weight" })
        {
            if (!byName.TryGetValue(name, out var t) || t.Dimensions.Count != 2) continue;
            if (embd is > 0 && t.Dimensions[0] != embd)
                yield return $"tensor '{name}' has shape {t.ShapeText} but {GgufKeys.EmbeddingLength(arch)} is {embd}";
            if (vocab is > 0 && t.Dimensions[1] != vocab)
                yield return $"tensor '{name}' has shape {t.ShapeText} but the vocabulary ({GgufKeys.Tokens}) has {vocab} tokens";
        }
        if (embd is > 0)
        {
            foreach (var t in tensors)
            {
                if (BlockIndex(t.Name) is null || t.Dimensions.Count != 2) continue;
                string kind = t.Name[(t.Name.IndexOf('.', 4) + 1)..];
                if (kind is "ffn_up.weight" or "ffn_gate.weight" && t.Dimensions[0] != embd)
                    yield return $"tensor '{t.Name}' has shape {t.ShapeText}: its rows must hold {GgufKeys.EmbeddingLength(arch)} {embd} values";
                if (kind is "ffn_down.weight" or "attn_output.weight" && t.Dimensions[1] != embd)
                    yield return $"tensor '{t.Name}' has shape {t.ShapeText}: it must have {GgufKeys.EmbeddingLength(arch)} {embd} rows";
                if (kind is "ffn_down.weight" && ff is > 0 && t.Dimensions[0] != ff)
                    yield return $"tensor '{t.Name}' has shape {t.ShapeText} but {GgufKeys.FeedForwardLength(arch)} is {ff}";
            }
        }
    }

    /// <summary>A scalar integer hyper-parameter; null when absent or stored per layer (an array).</summary>
    private static long? Scalar(GgufMetadata metadata, string key)
    {
        if (!metadata.TryGet(key, out var v) || !v.IsInteger) return null;
        // A uint64 past long.MaxValue is as absurd as long.MaxValue itself.
        return v.Type == GgufValueType.UInt64 && (ulong)v.Data > long.MaxValue ? long.MaxValue : v.AsInt64();
    }

    /// <summary>N of a tensor named blk.N.*; null for any other name.</summary>
    internal static long? BlockIndex(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return null;
        int dot = name.IndexOf('.', 4);
        if (dot < 0) return null;
        return long.TryParse(name.AsSpan(4, dot - 4), NumberStyles.None, CultureInfo.InvariantCulture, out long b) ? b : null;
    }
}
