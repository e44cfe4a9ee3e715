using System.Diagnostics;
using GgufOptimize.Engine;

namespace GgufOptimize.Tuning;

/// <summary>
/// Trials on a real llama.cpp context: one trial decodes the same chunks (all positions' logits requested, as
/// logits and kld do) and is timed from the first decode call to the last. A context is made per setting and
/// warmed up with one untimed chunk (the first decode allocates the compute buffers); the two most recently used
/// are kept, which is all a paired comparison needs, so memory stays at two KV caches.
/// </summary>
internal sealed class EngineThroughputMeter : IThroughputMeter, IDisposable
{
    private const int Kept = 2;
    private readonly LlamaModel _model;
    private readonly int _contextSize;
    private readonly IReadOnlyList<int[]> _chunks;
    private readonly LinkedList<(TuningSetting Setting, LlamaEvaluator Evaluator)> _live = new();

    /// <summary>Contexts created (each with one warm-up chunk that is not timed).</summary>
    public int WarmUps { get; private set; }
    /// <summary>Tokens decoded per timed trial.</summary>
    public long TokensPerTrial { get; }

    public EngineThroughputMeter(LlamaModel model, int contextSize, IReadOnlyList<int[]> chunks)
    {
        if (chunks.Count == 0) throw new ArgumentException("no chunks to time", nameof(chunks));
        _model = model;
        _contextSize = contextSize;
        _chunks = chunks;
        TokensPerTrial = chunks.Sum(c => (long)c.Length);
    }

    public double Measure(TuningSetting setting)
    {
        var evaluator = Evaluator(setting);
        var clock = Stopwatch.StartNew();
        foreach (var chunk in _chunks) evaluator.DecodeOnly(chunk);
        return TokensPerTrial / clock.Elapsed.TotalSeconds;
    }

    private LlamaEvaluator Evaluator(TuningSetting setting)
    {
        for (var node = _live.First; node is not null; node = node.Next)
        {
            if (node.Value.Setting != setting) continue;
            _live.Remove(node);
            _live.AddFirst(node);
            return node.Value.Evaluator;
        }
        while (_live.Count >= Kept)
        {
            _live.Last!.Value.Evaluator.Dispose();
            _live.RemoveLast();
        }
        var evaluator = new LlamaEvaluator(_model, new EvaluatorOptions
        {
            ContextSize = _contextSize, BatchSize = setting.Batch, UBatchSize = setting.UBatch, Threads = setting.Threads,
        });
        _live.AddFirst((setting, evaluator));
        evaluator.DecodeOnly(_chunks[0]);
        WarmUps++;
        return evaluator;
    }

    public void Dispose()
    {
        foreach (var (_, evaluator) in _live) evaluator.Dispose();
        _live.Clear();
    }
}
