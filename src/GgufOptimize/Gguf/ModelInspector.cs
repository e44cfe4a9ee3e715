namespace GgufOptimize.Gguf;

/// <summary>Summarises a GGUF model from its header alone (no tensor data is read).</summary>
internal static class ModelInspector
{
    public static ModelSummary Inspect(string path, bool includeMetadata = false) => Summarize(GgufModelValidation.ReadChecked(path), includeMetadata);

    public static ModelSummary Summarize(GgufFile file, bool includeMetadata = false)
    {
        var m = file.Metadata;
        string? arch = file.Architecture;
        long? ArchInt(Func<string, string> key) => arch is null ? null : IntegerOrMax(m, key(arch));

        int? vocab = m.TryGet(GgufKeys.Tokens, out var tokens) && tokens.IsArray ? tokens.Count
            : arch is not null && m.GetInteger(GgufKeys.VocabSize(arch)) is { } v ? (int)v : null;
        int? fileType = m.GetInteger(GgufKeys.FileType) is { } ft ? (int)ft : null;
        long parameters = file.ParameterCount;
        long dataBytes = file.TensorDataBytes;

        var byType = file.Tensors
            .GroupBy(t => t.Type)
            .OrderBy(g => (uint)g.Key)
            .Select(g => new TensorTypeCount(GgmlTypes.Name(g.Key), g.Count(), g.Sum(t => t.ElementCount), g.Sum(t => t.ByteSize)))
            .ToList();

        return new ModelSummary
        {
            Path = file.Path,
            FileBytes = file.FileLength,
            GgufVersion = file.Version,
            Alignment = file.Alignment,
            Architecture = arch,
            Name = m.GetString(GgufKeys.Name),
            ParameterCount = parameters,
            EmbeddingLength = ArchInt(GgufKeys.EmbeddingLength),
            BlockCount = ArchInt(GgufKeys.BlockCount),
            HeadCount = ArchInt(GgufKeys.HeadCount),
            HeadCountKv = ArchInt(GgufKeys.HeadCountKv),
            FeedForwardLength = ArchInt(GgufKeys.FeedForwardLength),
            ContextLength = ArchInt(GgufKeys.ContextLength),
            VocabSize = vocab,
            TokenizerModel = m.GetString(GgufKeys.TokenizerModel),
            FileType = fileType,
            FileTypeName = fileType is { } id ? LlamaFileTypes.Name(id) ?? $"unknown ({id})" : null,
            TensorCount = file.Tensors.Count,
            TensorTypes = byType,
            TensorDataBytes = dataBytes,
            BitsPerWeight = parameters > 0 ? dataBytes * 8.0 / parameters : 0,
            MetadataCount = m.Count,
            Metadata = includeMetadata ? m.Select(kv => new MetadataEntry(kv.Key, TypeName(kv.Value), kv.Value.ToDisplayString())).ToList() : null,
        };
    }

    /// <summary>A scalar integer, or the largest element of an integer array (per-layer hyperparameters).</summary>
    private static long? IntegerOrMax(GgufMetadata m, string key)
    {
        if (!m.TryGet(key, out var v)) return null;
        if (v.IsInteger) return v.AsInt64();
        if (v.IsArray && v.Count > 0 && v.ElementType is not (GgufValueType.String or GgufValueType.Array or GgufValueType.Bool))
            return v.Elements().Max(e => e.IsInteger ? e.AsInt64() : (long)e.AsDouble());
        return null;
    }

    public static string TypeName(GgufValue v) => v.IsArray
        ? $"array[{(v.ElementType == GgufValueType.Array ? "array" : v.ElementType.ToString().ToLowerInvariant())}]"
        : v.Type.ToString().ToLowerInvariant();
}
