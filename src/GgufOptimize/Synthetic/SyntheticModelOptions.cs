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
    /// <summary>
    /// Multiplies every classifier logit (an inverse softmax temperature baked into output.weight): above 1 the
    /// predictions of confident contexts get sharper. 1 = the original flat-ish models.
    /// </summary>
    public float LogitScale { get; init; } = 1f;
    /// <summary>
    /// Spread of per-token confidence: each input token t damps the logits of the prediction that follows it by
    /// r_t = e^(−spread·E_t), E_t ~ Exp(1) drawn per token (a heavy right tail of uncertain contexts). 0 = no damping
    /// (and no damping channel: the model is byte-identical to one made before this option existed).
    /// </summary>
    public float ConfidenceSpread { get; init; }

    /// <summary>
    /// The "realistic" preset: next-token entropies shaped like a trained LLM's on web text (median about 2 nats, a
    /// heavy tail with p90 about 4.5 nats; measured through llama.cpp, see docs/synthetic-models.md). Small n_embd and
    /// few layers so even a 262,144-token vocabulary is quick to write and run; every width a multiple of 256 so
    /// K-quants apply.
    /// </summary>
    public static SyntheticModelOptions Realistic(int vocabSize, ulong seed = 7) => new()
    {
        VocabSize = vocabSize, EmbeddingLength = 256, LayerCount = 2, HeadCount = 4, FeedForwardLength = 512,
        ContextLength = 4096, Seed = seed, WeightType = GgmlType.F16, Name = "synthetic-realistic",
        LogitScale = RealisticLogitScale(vocabSize), ConfidenceSpread = RealisticConfidenceSpread(vocabSize),
    };

    /// <summary>The flat hard case at the same shape as <see cref="Realistic"/>: random-weight distributions, entropy near log n_vocab minus a few nats.</summary>
    public static SyntheticModelOptions Flat(int vocabSize, ulong seed = 7) => Realistic(vocabSize, seed) with
    {
        Name = "synthetic-flat", LogitScale = 1f, ConfidenceSpread = 0f,
    };

    // Tuned through llama.cpp (docs/synthetic-models.md): a larger vocabulary spreads more mass into its tail, so it
    // needs sharper logits and less spread for the same entropy profile (3, 0.45 at 32k; 3.6, 0.38 at 128k; at 262k
    // 4, 0.35 was already too sharp, median 1.44 and p90 3.6 nats, so the rule stops at 128k's values).
    private static double Doublings(int vocabSize) => Math.Clamp(Math.Log2(vocabSize / 32000.0), 0, 2);
    internal static float RealisticLogitScale(int vocabSize) => (float)(3 + 0.3 * Doublings(vocabSize));
    internal static float RealisticConfidenceSpread(int vocabSize) => (float)(0.45 - 0.035 * Doublings(vocabSize));

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
        if (!(LogitScale > 0) || !float.IsFinite(LogitScale)) throw new ArgumentException($"logit scale must be positive (got {LogitScale})");
        if (!(ConfidenceSpread >= 0) || !float.IsFinite(ConfidenceSpread)) throw new ArgumentException($"confidence spread must be 0 or more (got {ConfidenceSpread})");
        if (ConfidenceSpread > 0 && EffectiveOutlierChannels + 2 > EmbeddingLength / 2) throw new ArgumentException("a confidence spread needs a spare channel");
    }
}
