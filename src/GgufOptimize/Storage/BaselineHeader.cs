using GgufOptimize.Chunking;

namespace GgufOptimize.Storage;

/// <summary>
/// Everything that identifies a baseline logits file: two runs with equal headers produce identical files,
/// so a resumed run may continue one and a later step may trust its tokens.
/// </summary>
internal sealed record BaselineHeader
{
    public required int ContextSize { get; init; }
    public required int VocabSize { get; init; }
    public required int TotalChunks { get; init; }
    /// <summary>32 (float32) or 16 (IEEE half).</summary>
    public required int Precision { get; init; }
    public required ModelIdentity Model { get; init; }
    public required string DatasetFile { get; init; }
    public required string DatasetSha256 { get; init; }
    /// <summary>See <see cref="Engine.LlamaModel.TokenizerFingerprint"/>.</summary>
    public required string TokenizerSha256 { get; init; }
    public required bool AddBos { get; init; }
    public required bool AddEos { get; init; }
    /// <summary>
    /// The engine settings that made the logits (batch sizes, cache types, GPU layers, native library); null where
    /// the file does not say (files of earlier versions, of llama-gguf-optimize, llama.cpp's .kld).
    /// </summary>
    public string? Engine { get; init; }

    /// <summary>Names the first field that differs, for the error that refuses to mix two runs.</summary>
    public string? Difference(BaselineHeader other)
    {
        if (Model.Sha256 != other.Model.Sha256) return $"model '{Model.FileName}' (sha256 {Model.Sha256[..12]}…), not '{other.Model.FileName}' (sha256 {other.Model.Sha256[..12]}…)";
        if (DatasetSha256 != other.DatasetSha256) return $"dataset '{DatasetFile}' (sha256 {DatasetSha256[..12]}…), not '{other.DatasetFile}' (sha256 {other.DatasetSha256[..12]}…)";
        if (ContextSize != other.ContextSize) return $"context size {ContextSize}, not {other.ContextSize}";
        if (VocabSize != other.VocabSize) return $"vocabulary size {VocabSize}, not {other.VocabSize}";
        if (TotalChunks != other.TotalChunks) return $"{TotalChunks} chunks, not {other.TotalChunks}";
        if (TokenizerSha256 != other.TokenizerSha256) return "another tokenizer";
        if (Precision != other.Precision) return $"precision {Precision}, not {other.Precision}";
        if (AddBos != other.AddBos || AddEos != other.AddEos) return "another BOS/EOS policy";
        if (Engine is not null && other.Engine is not null && Engine != other.Engine) return $"engine settings '{Engine}', not '{other.Engine}'";
        return null;
    }
}
