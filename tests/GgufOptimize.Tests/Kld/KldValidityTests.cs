using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats.LlamaCpp;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Datasets;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Kld;

/// <summary>What a comparison says it scored is what it scored; settings that change logits are part of a result's identity.</summary>
public class KldValidityTests
{
    private static string AidreamsBaseline(TempDir tmp, int context = 64)
    {
        string data = tmp.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..4000]);
        LogitsJob.Run(new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = tmp.File("base.h5"), ContextSize = context },
            NullProgress.Instance, default);
        return tmp.File("base.h5");
    }

    [SkippableFact]
    public void A_result_made_with_another_ubatch_is_refused_not_reused()
    {
        using var tmp = new TempDir();
        string baseline = AidreamsBaseline(tmp);
        KldJobOptions Options(int ub, bool clobber = false) => new()
        {
            BaselineLogits = baseline, TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("cmp.h5"), UBatchSize = ub, Clobber = clobber,
        };
        var first = KldJob.Run(Options(0), NullProgress.Instance, default);
        Assert.Contains("n_ubatch 64", first.Provenance.Inputs.TargetEngine);
        Assert.Contains("libllama.so sha256", first.Provenance.Inputs.TargetEngine);
        Assert.Contains("n_gpu_layers 0", first.Provenance.Inputs.TargetEngine);

        var refused = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(Options(16), NullProgress.Instance, default));
        Assert.Contains("id_target_engine", refused.Message);
        Assert.Contains("--overwrite", refused.Message);

        // The same settings again: reused, not recomputed.
        Assert.Equal(0, KldJob.Run(Options(64), NullProgress.Instance, default).ChunksComputed);
        var redone = KldJob.Run(Options(16, clobber: true), NullProgress.Instance, default);
        Assert.Equal(redone.Chunks.Count, redone.ChunksComputed);
        Assert.Contains("n_ubatch 16", KldOutputFile.Read(tmp.File("cmp.h5")).Provenance["id_target_engine"]);
    }

    [Slow]
    [SkippableFact]
    public void Stored_target_logits_chunked_differently_are_refused_before_any_work()
    {
        H5py.RequireInterpreter();
        using var tmp = new TempDir();
        string baseline = AidreamsBaseline(tmp);
        File.Copy(baseline, tmp.File("target.h5"));
        // One token changed in chunk 1 of an otherwise identical file.
        H5py.Run("""
            import sys, h5py
            with h5py.File(sys.argv[1], "r+") as f:
                t = f["tokens"]
                t[1, 5] = (int(t[1, 5]) + 1) % f.attrs["n_vocab"]
            """, tmp.File("target.h5"));
        var e = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions
        {
            BaselineLogits = baseline, TargetLogits = tmp.File("target.h5"), OutputFile = tmp.File("cmp.h5"),
        }, NullProgress.Instance, default));
        Assert.Contains("chunk 1", e.Message);
        Assert.False(Directory.Exists(KldChunkStore.PartsDirectory(tmp.File("cmp.h5"))));

        // A file in generate_logits.py's layout as target: its chunks cannot be proven to be ours.
        H5py.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "w") as f:
                f.attrs["format"] = "generate_logits_v0.6.0"; f.attrs["n_ctx"] = 64; f.attrs["n_vocab"] = 512; f.attrs["total_chunks"] = 2
                f.create_dataset("logits", shape=(2, 64, 512), dtype="float32", chunks=(1, 64, 512), compression="gzip")
            """, tmp.File("python.h5"));
        var run = CliProcess.Run("kld", "--baseline-logits", baseline, "--target-logits", tmp.File("python.h5"), "--output-file", tmp.File("cmp2.h5"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("chunks follow another rule", run.Stderr);
        Assert.False(File.Exists(tmp.File("cmp2.h5")));
    }

    [Fact]
    public void A_kld_baseline_says_what_was_scored_and_counts_the_floored_next_tokens()
    {
        using var tmp = new TempDir();
        const int context = 128;
        string model = tmp.File("synthetic.gguf");
        SyntheticModel.Write(model, new SyntheticModelOptions { VocabSize = 1024, EmbeddingLength = 128, LayerCount = 2, HeadCount = 4, ContextLength = context, Seed = 3 });
        // Random words against the model's grammar: many next tokens are far below the top one.
        var words = SyntheticVocabulary.Build(1024).Tokens.Where(t => t.StartsWith(SyntheticVocabulary.SpaceMark) && t.Length > 2).ToArray();
        var random = new Random(5);
        File.WriteAllText(tmp.File("data.txt"), string.Join(" ", Enumerable.Range(0, 900).Select(_ => words[random.Next(words.Length)][1..])));
        LogitsJob.Run(new LogitsJobOptions
        {
            ModelPath = model, DatasetPath = tmp.File("data.txt"), OutputPath = tmp.File("base.kld"), ContextSize = context, Format = LogitsFormat.LlamaCpp,
        }, NullProgress.Instance, default);
        var progress = new RecordingProgress();
        var r = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("base.kld"), TargetModel = model, OutputFile = tmp.File("cmp.h5") }, progress, default);

        Assert.Equal($"positions {context / 2}…{context - 2} of each chunk only (n_ctx/2 … n_ctx−2: all a llama.cpp .kld baseline stores)", r.Provenance.ScoredPositions);
        Assert.Equal(r.Chunks.Count * (context / 2 - 1), r.Overall.Tokens);

        // Independently: the model's own logits on the file's tokens, next token more than 16 nats below the top.
        long expected = 0;
        using (var kld = LlamaCppKldReader.Open(tmp.File("base.kld"), null))
        using (var m = LlamaModel.Load(model))
        using (var evaluator = new LlamaEvaluator(m, new EvaluatorOptions { ContextSize = context }))
        {
            var logits = new float[context * m.VocabSize];
            foreach (var chunk in r.Chunks)
            {
                var tokens = new LlamaCppKldReaderTokens(kld, m).Tokens(chunk.ChunkIndex);
                evaluator.EvaluateChunk(tokens, logits);
                for (int j = context / 2; j < context - 1; j++)
                {
                    var row = logits.AsSpan(j * m.VocabSize, m.VocabSize);
                    if (row[tokens[j + 1]] < System.Numerics.Tensors.TensorPrimitives.Max(row) - 16) expected++;
                }
            }
        }
        var file = KldOutputFile.Read(tmp.File("cmp.h5"));
        Assert.True(expected > 0, "the setup must put some next tokens below the floor");
        Assert.Equal(expected, file.Numbers["floored_next_tokens"]);
        Assert.Equal(expected, file.Chunks.Sum(c => (long)c.FlooredNextTokens));
        Assert.Contains("PPL_base", file.Provenance["floor_affected_statistics"]);
        Assert.Contains(progress.Warnings, w => w.Contains($"{expected} of {r.Overall.Tokens} scored next tokens"));
        // No clamp at 0: the same model against its own quantized log-probabilities gives values of both signs.
        Assert.Contains(r.Chunks.SelectMany(c => c.Kld), k => k < 0);
    }

    /// <summary>The tokens llama-perplexity evaluates for a .kld chunk: the stored ones, first replaced by BOS when the model adds it.</summary>
    private sealed class LlamaCppKldReaderTokens(LlamaCppKldReader file, LlamaModel model)
    {
        public int[] Tokens(int chunk)
        {
            var tokens = file.ChunkTokens(chunk);
            if (model.AddBos && model.Bos is { } bos) tokens[0] = bos;
            return tokens;
        }
    }
}
