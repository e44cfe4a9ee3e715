using GgufOptimize.Gguf;

namespace GgufOptimize.Synthetic;

/// <summary>Shape and seed of a synthetic llama model. Zero for a derived size means "use the default rule".</summary>
internal sealed record SyntheticModelOptions
{
    public int VocabSize { get; init; } = 1024;
    public int EmbeddingLength { get; init; } = 256;
    public int LayerCount { get; init; } = 2;
    public int HeadCount { get; init; } = 4;
    /// <summary>Key/value heads (grouped-query attention); 0 = <see cref="HeadCount"/>.</summary>
    public int HeadCountKv { get; init; }
    /// <summary>FFN width; 0 = twice the embedding length.</summary>
    public int FeedForwardLength { get; init; }
    public int ContextLength { get; init; } = 512;
    public ulong Seed { get; init; } = 1;
    /// <summary>Storage of the 2-D weights: F32, F16 or BF16 (norm vectors stay F32, as llama.cpp's converters do).</summary>
    public GgmlType WeightType { get; init; } = GgmlType.F32;
    public string Name { get; init; } = "synthetic-llama";
    public float RopeFreqBase { get; init; } = 10000f;
    public float RmsEpsilon { get; init; } = 1e-5f;
    /// <summary>Residual channels with much larger activations than the rest; -1 = max(2, n_embd / 128).</summary>
    public int OutlierChannels { get; init; } = -1;
    /// <summary>Standard deviation of an outlier channel relative to an ordinary one.</summary>
    public float OutlierScale { get; init; } = 6f;

    public int EffectiveHeadCountKv => HeadCountKv > 0 ? HeadCountKv : HeadCount;
    public int EffectiveFeedForwardLength => FeedForwardLength > 0 ? FeedForwardLength : 2 * EmbeddingLength;
    public int EffectiveOutlierChannels => OutlierChannels >= 0 ? OutlierChannels : Math.Max(2, EmbeddingLength / 128);
    public int HeadDimension => EmbeddingLength / HeadCount;

    /// <summary>Elements of all tensors the model will have.</summary>
    public long ParameterCount
    {
        get
        {
            long d = EmbeddingLength, f = EffectiveFeedForwardLength, kv = (long)HeadDimension * EffectiveHeadCountKv;
            long perLayer = 2 * d + d * d * 2 + 2 * d * kv + 3 * d * f;
            return 2L * VocabSize * d + d + LayerCount * perLayer;
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (VocabSize < SyntheticVocabulary.MinimumSize) throw new ArgumentException($"vocab size must be at least {SyntheticVocabulary.MinimumSize} (got {VocabSize})");
        if (EmbeddingLength < 8) throw new ArgumentException($"embedding length must be at least 8 (got {EmbeddingLength})");
        if (LayerCount < 1) throw new ArgumentException("at least one layer is needed");
        if (HeadCount < 1 || EmbeddingLength % HeadCount != 0) throw new ArgumentException($"head count {HeadCount} must divide the embedding length {EmbeddingLength}");
        if (HeadDimension % 2 != 0) throw new ArgumentException($"head dimension {HeadDimension} must be even (RoPE rotates pairs)");
        if (HeadCount % EffectiveHeadCountKv != 0) throw new ArgumentException($"kv head count {EffectiveHeadCountKv} must divide the head count {HeadCount}");
        if (EffectiveFeedForwardLength < 1) throw new ArgumentException("feed-forward length must be positive");
        if (ContextLength < 8) throw new ArgumentException($"context length must be at least 8 (got {ContextLength})");
        if (WeightType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)) throw new ArgumentException($"weight type must be F32, F16 or BF16 (got {WeightType})");
        if (EffectiveOutlierChannels > EmbeddingLength / 4) throw new ArgumentException($"at most a quarter of the channels can be outliers ({EffectiveOutlierChannels} of {EmbeddingLength})");
        if (OutlierScale <= 0) throw new ArgumentException("outlier scale must be positive");
    }
}
