namespace GgufOptimize.Imatrix;

/// <summary>
/// Which chunks of which text an imatrix shard holds, and what made it: recorded (as <c>gguf_optimize.*</c> keys in
/// the GGUF file) only by <c>imatrix --shard</c> for a piece short of the whole text, so <c>merge</c> can refuse
/// pieces from other inputs, gaps and overlaps. A file that covers the whole text carries none, like an unsharded run.
/// </summary>
internal sealed record ImatrixCoverage(int From, int To, int TotalChunks, string ModelSha256, string DatasetSha256, string Settings)
{
    public const string FromKey = "gguf_optimize.chunk_from";
    public const string ToKey = "gguf_optimize.chunk_to";
    public const string TotalKey = "gguf_optimize.chunk_total";
    public const string ModelKey = "gguf_optimize.model_sha256";
    public const string DatasetKey = "gguf_optimize.dataset_sha256";
    public const string SettingsKey = "gguf_optimize.settings";

    public bool IsWhole => From == 0 && To == TotalChunks;

    /// <summary>Names the first input that differs from <paramref name="other"/>'s, or null.</summary>
    public string? InputDifference(ImatrixCoverage other) =>
        ModelSha256 != other.ModelSha256 ? $"model sha256 {ModelSha256[..12]}… vs {other.ModelSha256[..12]}…"
        : DatasetSha256 != other.DatasetSha256 ? $"dataset sha256 {DatasetSha256[..12]}… vs {other.DatasetSha256[..12]}…"
        : TotalChunks != other.TotalChunks ? $"{TotalChunks} vs {other.TotalChunks} chunks in the text"
        : Settings != other.Settings ? $"settings '{Settings}' vs '{other.Settings}'"
        : null;
}
