using System.Runtime.InteropServices;
using GgufOptimize.Common;
using GgufOptimize.Gguf;

namespace GgufOptimize.Synthetic;

/// <summary>
/// Writes deterministic synthetic llama models that llama.cpp loads and runs: for tests, benchmarks and the demo.
/// Same options (including the seed) give the same file bytes. Weights are produced row by row while the file
/// is written, so large models do not need to fit in memory.
/// </summary>
internal static class SyntheticModel
{
    public const string Architecture = "llama";
    /// <summary>Metadata key recording the seed the weights came from.</summary>
    public const string SeedKey = "gguf_optimize.synthetic.seed";

    public static void Write(string path, SyntheticModelOptions options, IProgressSink? progress = null, CancellationToken cancellationToken = default) =>
        CreateWriter(options).Write(path, progress, cancellationToken);

    /// <summary>
    /// The residual channels with large activations in a model made from <paramref name="options"/>: the sink channel
    /// (a large constant) and the outlier channels (wide spread). An importance matrix of the attention and FFN
    /// input matrices should rank these channels highest.
    /// </summary>
    public static SyntheticChannels LargeChannels(SyntheticModelOptions options)
    {
        try { options.Validate(); }
        catch (ArgumentException e) { throw GgufOptimizeException.BadInput($"synthetic model: {e.Message}"); }
        var weights = new SyntheticWeights(options, SyntheticVocabulary.Build(options.VocabSize));
        return new SyntheticChannels(weights.SinkChannel, weights.OutlierChannels);
    }

    /// <summary>A writer with all metadata and (lazily generated) tensors of the model, for callers that add keys first.</summary>
    public static GgufWriter CreateWriter(SyntheticModelOptions options)
    {
        try { options.Validate(); }
        catch (ArgumentException e) { throw GgufOptimizeException.BadInput($"synthetic model: {e.Message}"); }

        var vocab = SyntheticVocabulary.Build(options.VocabSize);
        var weights = new SyntheticWeights(options, vocab);
        var writer = new GgufWriter();
        AddMetadata(writer.Metadata, options, vocab);

        int d = options.EmbeddingLength, ff = options.EffectiveFeedForwardLength;
        int kv = options.HeadDimension * options.EffectiveHeadCountKv;
        var type = options.WeightType;

        writer.AddTensor("token_embd.weight", type, [d, vocab.Count], s => WriteRows(s, type, d, vocab.Count, weights.EmbeddingRow));
        writer.AddTensor("output_norm.weight", GgmlType.F32, [d], s => WriteNorm(s, weights, "output_norm.weight", d));
        writer.AddTensor("output.weight", type, [d, vocab.Count], s => WriteRows(s, type, d, vocab.Count, weights.OutputRow));
        for (int layer = 0; layer < options.LayerCount; layer++)
        {
            string p = $"blk.{layer}.";
            AddNorm(writer, weights, p + "attn_norm.weight", d);
            AddMatrix(writer, weights, type, p + "attn_q.weight", LayerMatrix.Query, d, d);
            AddMatrix(writer, weights, type, p + "attn_k.weight", LayerMatrix.Key, d, kv);
            AddMatrix(writer, weights, type, p + "attn_v.weight", LayerMatrix.Value, d, kv);
            AddMatrix(writer, weights, type, p + "attn_output.weight", LayerMatrix.AttentionOutput, d, d);
            AddNorm(writer, weights, p + "ffn_norm.weight", d);
            AddMatrix(writer, weights, type, p + "ffn_gate.weight", LayerMatrix.FfnGate, d, ff);
            AddMatrix(writer, weights, type, p + "ffn_down.weight", LayerMatrix.FfnDown, ff, d);
            AddMatrix(writer, weights, type, p + "ffn_up.weight", LayerMatrix.FfnUp, d, ff);
        }
        return writer;
    }

    private static void AddMetadata(GgufMetadata m, SyntheticModelOptions o, SyntheticVocabulary vocab)
    {
        const string a = Architecture;
        m.Set(GgufKeys.Architecture, GgufValue.String(a));
        m.Set(GgufKeys.Name, GgufValue.String(o.Name));
        m.Set(GgufKeys.FileType, GgufValue.UInt32(o.WeightType switch { GgmlType.F16 => 1u, GgmlType.BF16 => 32u, _ => 0u }));
        m.Set(SeedKey, GgufValue.UInt64(o.Seed));
        m.Set(GgufKeys.ContextLength(a), GgufValue.UInt32((uint)o.ContextLength));
        m.Set(GgufKeys.EmbeddingLength(a), GgufValue.UInt32((uint)o.EmbeddingLength));
        m.Set(GgufKeys.BlockCount(a), GgufValue.UInt32((uint)o.LayerCount));
        m.Set(GgufKeys.FeedForwardLength(a), GgufValue.UInt32((uint)o.EffectiveFeedForwardLength));
        m.Set(GgufKeys.RopeDimensionCount(a), GgufValue.UInt32((uint)o.HeadDimension));
        m.Set(GgufKeys.HeadCount(a), GgufValue.UInt32((uint)o.HeadCount));
        m.Set(GgufKeys.HeadCountKv(a), GgufValue.UInt32((uint)o.EffectiveHeadCountKv));
        m.Set(GgufKeys.RmsEpsilon(a), GgufValue.Float32(o.RmsEpsilon));
        m.Set(GgufKeys.RopeFreqBase(a), GgufValue.Float32(o.RopeFreqBase));
        m.Set(GgufKeys.VocabSize(a), GgufValue.UInt32((uint)vocab.Count));
        m.Set(GgufKeys.TokenizerModel, GgufValue.String("llama"));
        m.Set(GgufKeys.Tokens, GgufValue.Array(vocab.Tokens));
        m.Set(GgufKeys.Scores, GgufValue.Array(vocab.Scores));
        m.Set(GgufKeys.TokenTypes, GgufValue.Array(vocab.TokenTypes));
        m.Set(GgufKeys.BosTokenId, GgufValue.UInt32(SyntheticVocabulary.Bos));
        m.Set(GgufKeys.EosTokenId, GgufValue.UInt32(SyntheticVocabulary.Eos));
        m.Set(GgufKeys.UnknownTokenId, GgufValue.UInt32(SyntheticVocabulary.Unknown));
        m.Set(GgufKeys.AddBosToken, GgufValue.Bool(true));
        m.Set(GgufKeys.AddEosToken, GgufValue.Bool(false));
    }

    private static void AddNorm(GgufWriter writer, SyntheticWeights weights, string name, int d) =>
        writer.AddTensor(name, GgmlType.F32, [d], s => WriteNorm(s, weights, name, d));

    private static void AddMatrix(GgufWriter writer, SyntheticWeights weights, GgmlType type, string name, LayerMatrix matrix, int inputs, int outputs) =>
        writer.AddTensor(name, type, [inputs, outputs],
            s => WriteRows(s, type, inputs, outputs, (row, values) => weights.MatrixRow(name, matrix, row, values)));

    private static void WriteNorm(Stream s, SyntheticWeights weights, string name, int d)
    {
        var values = new float[d];
        weights.NormVector(name, values);
        s.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private delegate void RowFiller(int row, Span<float> values);

    /// <summary>
    /// Generates rows in blocks on all cores (every row has its own random stream, so the bytes do not depend on
    /// the thread count) and writes each block in order.
    /// </summary>
    private static void WriteRows(Stream s, GgmlType type, int rowLength, int rows, RowFiller fill)
    {
        int blockRows = Math.Max(1, Math.Min(rows, (1 << 20) / rowLength));
        var values = new float[blockRows * rowLength];
        var half = type == GgmlType.F32 ? [] : new ushort[values.Length];
        for (int start = 0; start < rows; start += blockRows)
        {
            int n = Math.Min(blockRows, rows - start);
            Parallel.For(0, n, i => fill(start + i, values.AsSpan(i * rowLength, rowLength)));
            var block = values.AsSpan(0, n * rowLength);
            switch (type)
            {
                case GgmlType.F32: s.Write(MemoryMarshal.AsBytes(block)); break;
                case GgmlType.F16: HalfConversion.F32ToF16(block, half); s.Write(MemoryMarshal.AsBytes(half.AsSpan(0, block.Length))); break;
                default: HalfConversion.F32ToBF16(block, half); s.Write(MemoryMarshal.AsBytes(half.AsSpan(0, block.Length))); break;
            }
        }
    }
}
