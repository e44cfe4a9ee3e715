using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>
/// The reference side of a comparison: it fixes the chunks and their tokens and scores a target's rows against its
/// own. Either stored logits (<see cref="StoredBaselineSide"/>) or a model run on a dataset (<see cref="ModelBaselineSide"/>).
/// </summary>
internal interface IBaselineSide : IDisposable
{
    int TotalChunks { get; }
    int ContextSize { get; }
    int VocabSize { get; }
    /// <summary>Model, dataset and tokenizer of the baseline when known (ours, or a model run here); null for foreign files.</summary>
    BaselineHeader? Header { get; }
    /// <summary>Shown as the baseline (a file name).</summary>
    string Description { get; }
    /// <summary>Changes whenever the baseline's contents do (saved comparison chunks are reused only under the same identity).</summary>
    string Identity { get; }
    /// <summary>Engine settings that can change the logits, when a model is run here (part of a result's identity); null for stored logits.</summary>
    string? EngineSettings { get; }
    /// <summary>Positions before this are not stored for any chunk, so never scored (a llama.cpp .kld baseline keeps the second half).</summary>
    int FirstStoredPosition { get; }
    bool HasChunk(int chunk);
    int[] ChunkTokens(int chunk);
    /// <summary>
    /// Starts comparing chunk <paramref name="chunk"/>: the target's rows are then fed batch by batch
    /// (<see cref="IChunkScore.Add"/>) and scored against this side's matching rows as they come.
    /// </summary>
    IChunkScore BeginScore(int chunk, int[] tokens, int skipFirst, int threads);
    /// <summary>Called once every chunk is compared (a model baseline then finishes its --keep-logits file).</summary>
    void Complete();
}
