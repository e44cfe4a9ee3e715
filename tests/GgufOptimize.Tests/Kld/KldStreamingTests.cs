using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Kld;

/// <summary>
/// `kld` scores batch by batch (a batch of target rows against the baseline's matching rows, then let go), in every
/// mode. The per-position results must be those of the whole-chunk computation bit for bit: here the reference is
/// computed independently, each model evaluated over the whole chunk into one array and scored by the whole-chunk
/// scorer. A batch of 32 in chunks of 128 and --skip-first 40 make every chunk span several batches, one cut inside.
/// </summary>
[Collection("engine-workflow")]
public class KldStreamingTests
{
    private const int Context = 128, Batch = 32, Skip = 40, Threads = 2, Chunks = 3;

    private static string QuantizedTarget(TempDir tmp) => ModelQuantizer.Run(new QuantizeOptions
    {
        ModelPath = WorkflowAssets.Model, Types = [QuantizationTypes.Parse("Q4_0")], OutputDirectory = tmp.Path, Threads = 1,
    }, NullProgress.Instance)[0].OutputPath;

    /// <summary>A whole chunk's logits as the code before streaming made them: rows before <paramref name="first"/> not requested.</summary>
    private static float[] WholeChunk(LlamaEvaluator evaluator, int[] tokens, int vocab, int first)
    {
        var logits = new float[tokens.Length * vocab];
        Array.Fill(logits, float.NaN);
        evaluator.EvaluateChunk(tokens, logits, first);
        return logits;
    }

    private static LlamaEvaluator Evaluator(LlamaModel model) => new(model, new EvaluatorOptions { ContextSize = Context, BatchSize = Batch, Threads = Threads });

    private static void AssertSameBits(ChunkResult expected, ChunkResult actual, string what)
    {
        Assert.Equal(expected.ChunkIndex, actual.ChunkIndex);
        Assert.Equal(expected.Kld.Length, actual.Kld.Length);
        Assert.True(expected.Kld.Length > 0, $"{what}: nothing scored");
        for (int i = 0; i < expected.Kld.Length; i++)
        {
            Assert.True(BitConverter.DoubleToInt64Bits(expected.Kld[i]) == BitConverter.DoubleToInt64Bits(actual.Kld[i]),
                $"{what}, chunk {expected.ChunkIndex}, scored position {i}: KLD {expected.Kld[i]:R} whole vs {actual.Kld[i]:R} streamed");
            Assert.True(BitConverter.DoubleToInt64Bits(expected.DeltaP[i]) == BitConverter.DoubleToInt64Bits(actual.DeltaP[i]), $"{what}: ΔP at {i}");
        }
        Assert.Equal(expected.SameTop.ToArray(), actual.SameTop.ToArray());
        Assert.Equal(expected.NonFiniteRows, actual.NonFiniteRows);
    }

    [Slow]
    [Fact]
    public void Generate_both_scores_batch_by_batch_exactly_as_whole_chunks_and_stores_the_same_files()
    {
        using var tmp = new TempDir();
        string target = QuantizedTarget(tmp);
        using var baseModel = LlamaModel.Load(WorkflowAssets.Model);
        using var targetModel = LlamaModel.Load(target);
        // About three and a half chunks of the evaluation text, so that --keep-logits and --target-logits-output finish.
        string text = File.ReadAllText(WorkflowAssets.Evaluation), data = tmp.File("data.txt");
        int all = ChunkPlan.ForModel(baseModel.Tokenize(text), Context, baseModel.AddBos, baseModel.Bos, baseModel.AddEos, baseModel.Eos).ChunkCount;
        File.WriteAllText(data, text[..(int)(text.Length * 3.5 / all)]);
        KldJobOptions Options(string output) => new()
        {
            BaselineModel = WorkflowAssets.Model, TargetModel = target, Dataset = data, OutputFile = tmp.File(output),
            ContextSize = Context, BatchSize = Batch, Threads = Threads, SkipFirst = Skip,
        };
        var plain = KldJob.Run(Options("plain.h5"), NullProgress.Instance, default);
        var storing = KldJob.Run(Options("storing.h5") with { KeepLogits = tmp.File("base.h5"), TargetLogitsOutput = tmp.File("target.h5") }, NullProgress.Instance, default);
        Assert.True(plain.Overall.Average > 0, "Q4_0 must differ from F16");

        using var baseEval = Evaluator(baseModel);
        using var targetEval = Evaluator(targetModel);
        var plan = ChunkPlan.ForModel(baseModel.Tokenize(File.ReadAllText(data)), Context, baseModel.AddBos, baseModel.Bos, baseModel.AddEos, baseModel.Eos);
        Assert.InRange(plan.ChunkCount, 2, 6);
        int vocab = baseModel.VocabSize;
        using var keptBase = BaselineLogitsReader.Open(tmp.File("base.h5"));
        using var keptTarget = BaselineLogitsReader.Open(tmp.File("target.h5"));
        Assert.Equal(plan.ChunkCount, plain.Chunks.Count);
        for (int c = 0; c < plan.ChunkCount; c++)
        {
            int[] tokens = plan.Chunk(c);
            Assert.True(c == plan.ChunkCount - 1 || tokens.Length > 2 * Batch, "chunks must span several batches");
            var p = WholeChunk(baseEval, tokens, vocab, 0);
            // Without stored target logits only the scored rows are requested from the target; storing them requests all.
            var qScored = WholeChunk(targetEval, tokens, vocab, Skip);
            var qAll = WholeChunk(targetEval, tokens, vocab, 0);
            AssertSameBits(ChunkScorer.Score(c, LogitRows.Of(p, vocab), LogitRows.Of(qScored, vocab), tokens, Skip, Threads), plain.Chunks[c], "generate-both");
            AssertSameBits(ChunkScorer.Score(c, LogitRows.Of(p, vocab), LogitRows.Of(qAll, vocab), tokens, Skip, Threads), storing.Chunks[c], "generate-both storing");
            Assert.True(keptBase.ChunkLogits(c).SequenceEqual(p), $"--keep-logits chunk {c} differs from the whole-chunk baseline logits");
            Assert.True(keptTarget.ChunkLogits(c).SequenceEqual(qAll), $"--target-logits-output chunk {c} differs from the whole-chunk target logits");
        }
    }

    [Slow]
    [Fact]
    public void Every_stored_baseline_format_scores_batch_by_batch_exactly_as_whole_chunks()
    {
        using var tmp = new TempDir();
        string target = QuantizedTarget(tmp);
        using var targetModel = LlamaModel.Load(target);
        using var targetEval = Evaluator(targetModel);
        int vocab = targetModel.VocabSize;
        foreach (var (format, precision, name) in new[]
                 {
                     (LogitsFormat.Full, 32, "f32.h5"), (LogitsFormat.Full, 16, "f16.h5"), (LogitsFormat.Compact, 32, "compact1.h5"),
                     (LogitsFormat.QuantizedCompact, 32, "compact2.h5"), (LogitsFormat.LlamaCpp, 32, "base.kld"),
                 })
        {
            string baseline = tmp.File(name);
            LogitsJob.Run(new LogitsJobOptions
            {
                ModelPath = WorkflowAssets.Model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = baseline, ContextSize = Context,
                ToChunk = Chunks, Threads = Threads, Format = format, Precision = precision,
            }, NullProgress.Instance, default);
            var streamed = KldJob.Run(new KldJobOptions
            {
                BaselineLogits = baseline, TargetModel = target, OutputFile = tmp.File(name + ".cmp.h5"), BatchSize = Batch, Threads = Threads, SkipFirst = Skip,
            }, NullProgress.Instance, default);

            using var file = StoredBaselines.OpenBaseline(baseline, new BaselineOpenContext { Specials = ForeignChunking.Specials(targetModel) });
            Assert.Equal(Chunks, streamed.Chunks.Count);
            foreach (var actual in streamed.Chunks)
            {
                int c = actual.ChunkIndex;
                int[] tokens = file.ChunkTokens(c);
                int first = Math.Min(Math.Max(Skip, file.FirstStoredPosition), tokens.Length - 1);
                var q = WholeChunk(targetEval, tokens, vocab, first);
                AssertSameBits(file.Score(c, LogitRows.Of(q, vocab), tokens, Skip, Threads), actual, $"{format} {precision}");
            }
        }
    }

    [Slow]
    [Fact]
    public void Stored_target_logits_are_scored_in_windows_exactly_as_whole_chunks()
    {
        using var tmp = new TempDir();
        string target = QuantizedTarget(tmp);
        foreach (var (model, output) in new[] { (WorkflowAssets.Model, "base.h5"), (target, "target.h5") })
            LogitsJob.Run(new LogitsJobOptions
            {
                ModelPath = model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = tmp.File(output), ContextSize = Context, ToChunk = Chunks, Threads = Threads,
            }, NullProgress.Instance, default);

        using var baseline = StoredBaselineSide.Open(tmp.File("base.h5"), StoredLogitsKind.Full, null, null, Skip, NullProgress.Instance);
        using var targetSide = StoredTargetSide.Open(tmp.File("target.h5"), windowRows: 7);
        targetSide.Attach(baseline, new KldJobOptions { OutputFile = tmp.File("unused.h5"), SkipFirst = Skip });
        using var baseRows = BaselineLogitsReader.Open(tmp.File("base.h5"));
        using var targetRows = BaselineLogitsReader.Open(tmp.File("target.h5"));
        for (int c = 0; c < Chunks; c++)
        {
            int[] tokens = baseline.ChunkTokens(c);
            var scoring = baseline.BeginScore(c, tokens, Skip, Threads);
            int batches = 0;
            targetSide.Stream(c, tokens, (first, rows) =>
            {
                Assert.True(first >= Skip && rows.Count <= 7, $"window {first}+{rows.Count}");
                batches++;
                scoring.Add(first, rows);
            });
            Assert.True(batches > 10, $"{batches} windows");
            AssertSameBits(ChunkScorer.Score(c, baseRows.ChunkRows(c), targetRows.ChunkRows(c), tokens, Skip, Threads), scoring.Finish(), "stored target");
        }
        // Rows read and let go (their pages dropped) read back unchanged.
        var again = targetRows.ChunkRows(0).Row(Skip, new float[targetRows.VocabSize]).ToArray();
        Assert.True(again.AsSpan().SequenceEqual(targetRows.ChunkLogits(0).Slice(Skip * targetRows.VocabSize, targetRows.VocabSize)));
    }
}
