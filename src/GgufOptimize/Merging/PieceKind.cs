using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Merging;

/// <summary>What a merge piece is, told from its content (never its name).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<PieceKind>))]
internal enum PieceKind
{
    /// <summary>A baseline of every logit (float32 or float16), <c>logits --format full</c>.</summary>
    FullBaseline,
    /// <summary>A compact-1 baseline, <c>logits --format compact-1</c>.</summary>
    CompactBaseline,
    /// <summary>A compact-4, compact-3 or compact-2 (quantized) baseline, <c>logits --format compact</c>.</summary>
    QuantizedBaseline,
    /// <summary>A comparison written by <c>kld</c>.</summary>
    Comparison,
    /// <summary>A GGUF importance matrix written by <c>imatrix --shard</c>.</summary>
    Imatrix,
}

/// <summary>Tells the kind of a piece; kinds that cannot be merged are refused with the reason.</summary>
internal static class PieceKinds
{
    public static PieceKind Detect(string path)
    {
        if (Directory.Exists(path)) throw GgufOptimizeException.BadInput($"merge: piece '{path}' is a directory");
        if (!File.Exists(path))
        {
            string hint = File.Exists(BaselineLayout.PartialPath(path)) ? $" (only '{BaselineLayout.PartialPath(path)}' exists: that shard is unfinished; rerun it)"
                : Directory.Exists(KldChunkStore.PartsDirectory(path)) ? " (only its .parts folder exists: that shard is unfinished; rerun it)" : "";
            throw GgufOptimizeException.BadInput($"merge: piece '{path}' does not exist{hint}");
        }
        Span<byte> head = stackalloc byte[4];
        using (var f = File.OpenRead(path))
            if (f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && BitConverter.ToUInt32(head) == GgufFormat.Magic)
                return PieceKind.Imatrix;
        try
        {
            var layout = Hdf5ContiguousFile.Open(path);
            if (layout.Root.TryGetAttribute<string>("format", out var format) && KldOutputFile.IsOurs(format)) return PieceKind.Comparison;
        }
        catch (GgufOptimizeException) { }
        return StoredBaselines.Detect(path) switch
        {
            StoredLogitsKind.Full => PieceKind.FullBaseline,
            StoredLogitsKind.Compact => PieceKind.CompactBaseline,
            StoredLogitsKind.QuantizedCompact => PieceKind.QuantizedBaseline,
            StoredLogitsKind.LlamaCpp => throw GgufOptimizeException.BadInput($"merge: '{path}' is a llama.cpp .kld file, which always starts at chunk 0 and cannot be made in shards; shard a --format full or compact baseline instead"),
            var other => throw GgufOptimizeException.BadInput($"merge: '{path}' is a {other} logits file, not a shard of ours (merge takes our full or compact baselines, comparisons and imatrix shards)"),
        };
    }
}
