using System.Buffers.Binary;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.LlamaCpp;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

public class LlamaCppFormatTests
{
    [Slow]
    [SkippableFact]
    public void Our_kld_file_has_llama_cpps_layout_and_reads_back_to_the_exact_kld_within_its_quantization_error()
    {
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp), target = FormatFixtures.Quantized(tmp);
        string kld = tmp.File("base.kld");
        var written = LogitsJob.Run(new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = kld, Format = LogitsFormat.LlamaCpp }, NullProgress.Instance, default);
        Assert.False(File.Exists(kld + ".partial"));
        Assert.False(File.Exists(LlamaCppKldWriter.DonePath(kld)));

        // Layout: magic, n_ctx, n_vocab, n_chunk, tokens = BOS + text tokens cut to whole chunks, rows of 2·⌈n_vocab/2⌉+4 uint16.
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        var textTokens = model.Tokenize(File.ReadAllText(data));
        var bytes = File.ReadAllBytes(kld);
        int nCtx = 128, nVocab = 512, nChunk = (textTokens.Length + 1) / nCtx;
        Assert.Equal("_logits_"u8.ToArray(), bytes[..8]);
        Assert.Equal(nCtx, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(nVocab, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(nChunk, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(nChunk, written.TotalChunks);
        Assert.Equal(model.Bos!.Value, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20)));
        for (int i = 1; i < nChunk * nCtx; i++) Assert.Equal(textTokens[i - 1], BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20 + 4 * i)));
        Assert.Equal(20L + 4L * nChunk * nCtx + (long)nChunk * (nCtx - 1 - nCtx / 2) * (2 * ((nVocab + 1) / 2) + 4) * 2, bytes.Length);

        var result = KldJob.Run(new KldJobOptions { BaselineLogits = kld, TargetModel = target, OutputFile = tmp.File("cmp.h5") }, NullProgress.Instance, default);
        Assert.Equal(nChunk, result.Chunks.Count);

        // The same positions computed exactly from both models' float32 logits, on the chunks the file implies.
        using var reader = LlamaCppKldReader.Open(kld, model.Bos);
        using var baseEval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = nCtx });
        using var targetModel = LlamaModel.Load(target);
        using var targetEval = new LlamaEvaluator(targetModel, new EvaluatorOptions { ContextSize = nCtx });
        var p = new float[nCtx * nVocab];
        var q = new float[nCtx * nVocab];
        var row = new ushort[2 * ((nVocab + 1) / 2) + 4];
        int checkedTokens = 0;
        for (int c = 0; c < nChunk; c++)
        {
            var tokens = reader.ChunkTokens(c);
            Assert.Equal(model.Bos.Value, tokens[0]);
            baseEval.EvaluateChunk(tokens, p);
            targetEval.EvaluateChunk(tokens, q);
            var chunk = result.Chunks[c];
            Assert.Equal(nCtx - 1 - nCtx / 2, chunk.Count);
            for (int j = nCtx / 2, k = 0; j < nCtx - 1; j++, k++)
            {
                var pr = p.AsSpan(j * nVocab, nVocab);
                var qr = q.AsSpan(j * nVocab, nVocab);
                var exact = LogitComparer.Compare(pr, qr, tokens[j + 1]);
                LlamaCppRowQuantizer.Quantize(pr, row);
                float scale = System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, float>(row.AsSpan(0, 2))[0];
                double delta = scale / 2 + 1e-5;
                double bound = QuantizationBound(pr, qr, delta);
                Assert.True(Math.Abs(chunk.Kld[k] - exact.Kld) <= bound + 1e-6, $"chunk {c} position {j}: {chunk.Kld[k]} vs exact {exact.Kld}, bound {bound}");
                Assert.True(Math.Abs(chunk.LogProbBase[k] - exact.LogProbBase) <= delta + 1e-6);
                Assert.Equal(exact.LogProbTarget, chunk.LogProbTarget[k], 1e-5);
                checkedTokens++;
            }
        }
        Assert.True(checkedTokens > 500);
    }

    [SkippableFact]
    public void Stored_rows_are_the_quantized_rows_of_a_full_decode_byte_for_byte()
    {
        // logits asks llama.cpp only for the rows a .kld keeps and quantizes them on the decode thread: the bytes must
        // be those of quantizing every row of a plain full decode.
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp), kld = tmp.File("base.kld");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = kld, Format = LogitsFormat.LlamaCpp }, NullProgress.Instance, default);
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        using var reader = LlamaCppKldReader.Open(kld, model.Bos);
        var layout = reader.Layout;
        var bytes = File.ReadAllBytes(kld);
        using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = layout.ContextSize });
        var logits = new float[layout.ContextSize * layout.VocabSize];
        var row = new ushort[layout.RowUInt16s];
        for (int c = 0; c < layout.ChunkCount; c++)
        {
            evaluator.EvaluateChunk(reader.ChunkTokens(c), logits);
            for (int j = layout.FirstPosition; j < layout.FirstPosition + layout.RowsPerChunk; j++)
            {
                LlamaCppRowQuantizer.Quantize(logits.AsSpan(j * layout.VocabSize, layout.VocabSize), row);
                var stored = bytes.AsSpan((int)layout.RowOffset(c, j), (int)layout.RowBytes);
                Assert.True(stored.SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan())), $"chunk {c} position {j}");
            }
        }
    }

    /// <summary>
    /// |KL' − KL| when every baseline log-probability moves by at most δ and those at or below −16 are dropped:
    /// (e^δ − 1) Σ P|lp − lq| + e^δ δ + Σ over lp ≤ −16 + δ of P(|lp − lq| + δ).
    /// </summary>
    private static double QuantizationBound(ReadOnlySpan<float> p, ReadOnlySpan<float> q, double delta)
    {
        var lp = ReferenceLogSoftmax(p);
        var lq = ReferenceLogSoftmax(q);
        double spread = 0, dropped = 0;
        for (int i = 0; i < lp.Length; i++)
        {
            double pi = Math.Exp(lp[i]), d = Math.Abs(lp[i] - lq[i]);
            spread += pi * d;
            if (lp[i] <= -16 + delta) dropped += pi * (d + delta);
        }
        return (Math.Exp(delta) - 1) * spread + Math.Exp(delta) * delta + dropped;
    }

    private static double[] ReferenceLogSoftmax(ReadOnlySpan<float> x) => GgufOptimize.Tests.Metrics.ReferenceKld.LogSoftmax(x);

    [SkippableFact]
    public void A_cut_short_file_offers_its_complete_chunks_and_a_rerun_of_logits_reuses_a_finished_file()
    {
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp);
        string kld = tmp.File("base.kld");
        var options = new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = kld, Format = LogitsFormat.LlamaCpp };
        LogitsJob.Run(options, NullProgress.Instance, default);
        var again = LogitsJob.Run(options, NullProgress.Instance, default);
        Assert.Equal(0, again.ChunksComputed);

        var layout = new LlamaCppKldLayout(128, 512, again.TotalChunks);
        var bytes = File.ReadAllBytes(kld);
        string cut = tmp.File("cut.kld");
        File.WriteAllBytes(cut, bytes[..(int)(layout.DataOffset + 2 * layout.ChunkBytes + 100)]);
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        using (var reader = LlamaCppKldReader.Open(cut, model.Bos))
        {
            Assert.Equal(2, reader.ProcessedCount);
            Assert.True(reader.HasChunk(1));
            Assert.False(reader.HasChunk(2));
        }
        var r = KldJob.Run(new KldJobOptions { BaselineLogits = cut, TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("c.h5") }, NullProgress.Instance, default);
        Assert.Equal(2, r.Chunks.Count);
        Assert.Equal(again.TotalChunks - 2, r.MissingBaselineChunks.Count);
        // The same model: only the uint16 quantization remains, and it is not clamped at 0 (as in llama-perplexity).
        Assert.InRange(Math.Abs(r.Overall.Average), 0, 1e-4);
    }

    [Slow]
    [SkippableFact]
    public void A_kld_baseline_needs_a_target_model_and_its_own_dataset()
    {
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp);
        string kld = tmp.File("base.kld");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = kld, Format = LogitsFormat.LlamaCpp }, NullProgress.Instance, default);
        var full = tmp.File("full.h5");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = full }, NullProgress.Instance, default);
        var e1 = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions { BaselineLogits = kld, TargetLogits = full, OutputFile = tmp.File("a.h5") }, NullProgress.Instance, default));
        Assert.Contains("--target-model", e1.Message);
        File.WriteAllText(tmp.File("other.txt"), File.ReadAllText(SharedAssets.AidreamsText)[20000..32000]);
        var e2 = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions { BaselineLogits = kld, TargetModel = SharedAssets.AidreamsModel, Dataset = tmp.File("other.txt"), OutputFile = tmp.File("b.h5") }, NullProgress.Instance, default));
        Assert.Contains("other tokens", e2.Message);
        var ok = KldJob.Run(new KldJobOptions { BaselineLogits = kld, TargetModel = SharedAssets.AidreamsModel, Dataset = data, OutputFile = tmp.File("c.h5") }, NullProgress.Instance, default);
        Assert.True(ok.Overall.Tokens > 0);
        File.WriteAllBytes(tmp.File("junk.kld"), "_logits_\u0001\0\0\0"u8.ToArray());
        var e3 = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("junk.kld"), TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("d.h5") }, NullProgress.Instance, default));
        Assert.Contains("junk.kld", e3.Message);
    }
}
