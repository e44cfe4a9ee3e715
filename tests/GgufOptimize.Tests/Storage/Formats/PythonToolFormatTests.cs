using System.Runtime.InteropServices;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.PythonTool;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

public class PythonToolFormatTests
{
    private const int Context = 64;

    /// <summary>
    /// generate_logits.py's chunking, written out here from its source independently of PythonToolChunks: llama-cpp-python
    /// tokenizes with BOS added (this model adds BOS, not EOS), each chunk takes the next n_ctx − 2 tokens behind a BOS,
    /// and total_chunks = ⌈n_tokens / (n_ctx − 1)⌉.
    /// </summary>
    private static List<int[]> PythonChunks(LlamaModel model, string text)
    {
        var tokens = new List<int> { model.Bos!.Value };
        tokens.AddRange(model.Tokenize(text));
        int total = (tokens.Count + Context - 2) / (Context - 1);
        var chunks = new List<int[]>();
        for (int c = 0; c < total; c++)
        {
            int start = c * (Context - 2), end = Math.Min(start + Context - 2, tokens.Count);
            chunks.Add([model.Bos.Value, .. tokens.GetRange(start, Math.Max(0, end - start))]);
        }
        return chunks;
    }

    private const string BuildScript = """
        import sys, json, numpy as np, h5py
        out, raw, lengths_json = sys.argv[1], sys.argv[2], sys.argv[3]
        lengths = json.loads(lengths_json)
        total, n_ctx, n_vocab = len(lengths), int(sys.argv[4]), int(sys.argv[5])
        rows = np.fromfile(raw, dtype='<f4').reshape(total, n_ctx, n_vocab)
        with h5py.File(out, 'w') as f:
            f.attrs['format'] = 'generate_logits_v0.6.0'
            f.attrs['n_ctx'] = n_ctx
            f.attrs['n_vocab'] = n_vocab
            f.attrs['total_chunks'] = total
            logits = f.create_dataset('logits', shape=(total, n_ctx, n_vocab), maxshape=(None, n_ctx, n_vocab), dtype='float32', chunks=(1, n_ctx, n_vocab), compression='gzip')
            freed = f.create_dataset('freed_chunks', shape=(0,), dtype=np.int64, maxshape=(None,), chunks=True)
            processed = f.create_dataset('processed_chunks', shape=(total,), dtype=bool, maxshape=(None,), chunks=True)
            processed[...] = False
            index = f.create_dataset('chunk_index', shape=(total,), dtype=np.int64, chunks=True)
            index[...] = -1
            # The tool's slot logic: reuse the slot of freed_chunks[0], then drop the last element of freed_chunks.
            def generate(c):
                if freed.size > 0:
                    slot = index[freed[0]]
                    freed.resize(freed.shape[0] - 1, axis=0)
                else:
                    slot = c
                index[c] = slot
                logits[slot, :lengths[c], :] = rows[c, :lengths[c], :]
                processed[c] = True
            def free(c):
                freed.resize((freed.shape[0] + 1,))
                freed[-1] = c
            generate(0); free(0)        # kl_d_bench: chunk 0 compared, then freed
            generate(1)                 # chunk 1 lands in chunk 0's slot
            for c in range(2, total - 1): generate(c)
            free(5)                     # freed, data still in place: no longer to be trusted
            # the last chunk is never generated
        """;

    [Slow]
    [SkippableFact]
    public void Kld_reads_a_python_tool_file_with_a_reused_slot_a_freed_chunk_and_a_missing_one()
    {
        H5py.RequireInterpreter();
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp, 6000);
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        var chunks = PythonChunks(model, File.ReadAllText(data));
        int total = chunks.Count, vocab = model.VocabSize;
        Assert.True(total > 8);
        var raw = new float[(long)total * Context * vocab];
        using (var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = Context }))
            for (int c = 0; c < total; c++)
                evaluator.EvaluateChunk(chunks[c], raw.AsSpan(c * Context * vocab, chunks[c].Length * vocab));
        File.WriteAllBytes(tmp.File("raw.f32"), MemoryMarshal.AsBytes(raw.AsSpan()).ToArray());
        string lengths = "[" + string.Join(",", chunks.Select(c => c.Length)) + "]";
        H5py.Run(BuildScript, tmp.File("python.h5"), tmp.File("raw.f32"), lengths, Context.ToString(), vocab.ToString());

        Assert.Equal(StoredLogitsKind.PythonTool, StoredBaselines.Detect(tmp.File("python.h5")));
        var missingDataset = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions
        {
            BaselineLogits = tmp.File("python.h5"), TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("x.h5"),
        }, NullProgress.Instance, default));
        Assert.Contains("--dataset", missingDataset.Message);

        // The same model as target: every available chunk must match its stored rows exactly (a wrong slot would not).
        var r = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = tmp.File("python.h5"), TargetModel = SharedAssets.AidreamsModel, Dataset = data, OutputFile = tmp.File("cmp.h5"),
        }, NullProgress.Instance, default);
        Assert.Equal(new[] { 0, 5, total - 1 }, r.MissingBaselineChunks);
        Assert.Equal(total - 3, r.Chunks.Count);
        Assert.Contains(r.Chunks, c => c.ChunkIndex == 1);
        Assert.All(r.Chunks, c => Assert.All(c.Kld, k => Assert.Equal(0f, k)));
        Assert.Equal(r.Chunks.Sum(c => (long)chunks[c.ChunkIndex].Length - 1), r.Overall.Tokens);
    }

    [SkippableFact]
    public void The_tools_token_cache_is_read_as_the_exact_tokens()
    {
        H5py.RequireInterpreter();
        using var tmp = new TempDir();
        H5py.Run("""
            import sys, numpy as np
            np.save(sys.argv[1], [1, 5, 300, 2, 511])
            np.save(sys.argv[2], np.array([7, 8], dtype=np.int32))
            """, tmp.File("a.tokens.npy"), tmp.File("b.tokens.npy"));
        Assert.Equal(new[] { 1, 5, 300, 2, 511 }, NpyTokens.Read(tmp.File("a.tokens.npy")));
        Assert.Equal(new[] { 7, 8 }, NpyTokens.Read(tmp.File("b.tokens.npy")));
        File.WriteAllText(tmp.File("c.npy"), "not numpy");
        Assert.Throws<GgufOptimizeException>(() => NpyTokens.Read(tmp.File("c.npy")));
    }

    [Fact]
    public void Slot_ownership_follows_the_last_writer_and_the_freed_list()
    {
        // Chunks 0,1,2 share slot 0 (written in that order); 3 is alone but freed; 4 is alone; 5 was never processed.
        var (slot, overwritten) = PureHdfLogitsReader.ResolveSlots(
            processed: [true, true, true, true, true, false], index: [0, 0, 0, 3, 4, -1], freed: [3], chunks: 6, slots: 6);
        Assert.Equal(new long[] { -1, -1, 0, -1, 4, -1 }, slot);
        Assert.Equal(2, overwritten);
        // The last writer of a shared slot was freed: nobody owns it.
        (slot, _) = PureHdfLogitsReader.ResolveSlots([true, true], [0, 0], [1], 2, 2);
        Assert.Equal(new long[] { -1, -1 }, slot);
    }
}
