using System.Text;
using GgufOptimize.Common;
using GgufOptimize.Engine;

namespace GgufOptimize.Synthetic;

/// <summary>
/// Samples text from a model itself: each paragraph starts at BOS and ends at EOS (or BOS) or after
/// <see cref="TextGenerationOptions.MaxTokens"/> tokens. A paragraph is kept only if its bytes are valid UTF-8
/// and it has no line break and is not blank; others are discarded and counted, never repaired (so every kept
/// paragraph is exactly what the model produced, minus SentencePiece's leading space and edge whitespace).
/// The same model, options and seed give the same text.
/// </summary>
internal sealed class ModelTextGenerator : IDisposable
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    private readonly LlamaModel _model;
    private readonly LlamaEvaluator _evaluator;
    private readonly TextGenerationOptions _options;
    private readonly DeterministicRandom _rng;
    private readonly int _maxTokens;
    private readonly double[] _weights;

    public ModelTextGenerator(LlamaModel model, TextGenerationOptions options)
    {
        if (options.Temperature < 0 || double.IsNaN(options.Temperature)) throw GgufOptimizeException.BadInput($"--temperature must be 0 or more (got {options.Temperature})");
        if (options.MaxTokens < 0) throw GgufOptimizeException.BadInput($"--max-tokens must be positive (got {options.MaxTokens})");
        if (model.Bos is null) throw GgufOptimizeException.BadInput($"model '{model.Path}' has no BOS token to start samples from");
        _model = model;
        _options = options;
        _maxTokens = options.MaxTokens > 0 ? options.MaxTokens : Math.Max(1, model.TrainContext - 1);
        _evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = _maxTokens + 1, BatchSize = 1, Threads = options.Threads });
        _rng = new DeterministicRandom(options.Seed);
        _weights = new double[model.VocabSize];
    }

    /// <summary>Samples until <paramref name="count"/> paragraphs are kept.</summary>
    public GeneratedText Generate(int count, IProgressSink? progress = null, CancellationToken cancellationToken = default)
    {
        progress ??= NullProgress.Instance;
        var kept = new List<string>(count);
        int byEos = 0, cut = 0, badUtf8 = 0, lineBreak = 0, empty = 0, rejectedInRow = 0;
        long sampled = 0;
        progress.Start("sampling paragraphs", count);
        while (kept.Count < count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (bytes, tokens, ended) = SampleBytes();
            sampled += tokens;
            string? text = Decode(bytes);
            string? reason = text is null ? "utf8" : text.Contains('\n') || text.Contains('\r') ? "newline" : string.IsNullOrWhiteSpace(text) ? "empty" : null;
            if (reason is not null)
            {
                if (reason == "utf8") badUtf8++; else if (reason == "newline") lineBreak++; else empty++;
                if (++rejectedInRow >= _options.MaxConsecutiveRejections)
                    throw GgufOptimizeException.Runtime($"model '{_model.Path}' produced {rejectedInRow} unusable samples in a row (invalid UTF-8: {badUtf8}, line breaks: {lineBreak}, empty: {empty})");
                continue;
            }
            rejectedInRow = 0;
            if (ended) byEos++; else cut++;
            kept.Add(text!.Trim());
            progress.Report(kept.Count, tokens);
        }
        progress.Finish();
        return new GeneratedText(kept, byEos, cut, badUtf8, lineBreak, empty, sampled);
    }

    /// <summary>One sample's bytes, how many tokens were sampled, and whether the model ended it itself.</summary>
    private (byte[] Bytes, int Tokens, bool Ended) SampleBytes()
    {
        var bytes = new List<byte>();
        int token = _model.Bos!.Value;
        for (int pos = 0; pos < _maxTokens; pos++)
        {
            var logits = _evaluator.DecodeNext(token, pos);
            int next = Sample(logits);
            if (next == _model.Eos || next == _model.Bos) return (bytes.ToArray(), pos + 1, true);
            bytes.AddRange(_model.TokenBytes(next));
            token = next;
        }
        return (bytes.ToArray(), _maxTokens, false);
    }

    private int Sample(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        if (_options.Temperature == 0) return best;
        double max = logits[best], total = 0;
        for (int i = 0; i < logits.Length; i++) total += _weights[i] = Math.Exp((logits[i] - max) / _options.Temperature);
        double u = _rng.NextDouble() * total;
        for (int i = 0; i < logits.Length; i++)
        {
            u -= _weights[i];
            if (u < 0) return i;
        }
        return best;
    }

    private static string? Decode(byte[] bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { return null; }
    }

    public void Dispose() => _evaluator.Dispose();
}
