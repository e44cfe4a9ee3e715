using GgufOptimize.Common;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Workflow;

/// <summary>
/// A stored baseline <c>iterate</c> runs its comparisons against: any file of ours that records the model and dataset
/// it was made from, in whatever format <c>logits</c> wrote it (compact by default, full with <c>--format full</c>).
/// </summary>
internal sealed record ReusedBaseline(BaselineHeader Header, int TotalChunks, int ProcessedCount, string Identity)
{
    public static ReusedBaseline Open(string path)
    {
        var kind = StoredBaselines.Detect(path);
        if (kind is not (StoredLogitsKind.Full or StoredLogitsKind.FullCompressed or StoredLogitsKind.Compact or StoredLogitsKind.QuantizedCompact))
            throw GgufOptimizeException.BadInput($"baseline logits '{path}' is a {(kind == StoredLogitsKind.LlamaCpp ? "llama.cpp .kld" : "llama-gguf-optimize")} file: " +
                "iterate reuses baselines written by gguf-optimize logits (--format compact, full or compact-1), which record the model and dataset they were made from");
        using var baseline = StoredBaselines.OpenBaseline(path, new BaselineOpenContext());
        var h = baseline.Header ?? throw GgufOptimizeException.BadInput($"baseline logits '{path}' record no model or dataset; make the baseline with gguf-optimize logits");
        string identity = $"{h.Model.Sha256}|{h.DatasetSha256}|ctx {h.ContextSize}|f{h.Precision}";
        // Full files keep the identity earlier workspaces cached their steps under; the other formats add their own
        // (with their encoding settings), so no cached comparison is reused across formats.
        if (kind != StoredLogitsKind.Full) identity += $"|{baseline.Identity}";
        return new ReusedBaseline(h, baseline.TotalChunks, baseline.ProcessedCount, identity);
    }
}
