using System.Text.Json;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage;

/// <summary>Our comparison files read the way llama-gguf-optimize's readers read theirs.</summary>
public class ComparisonInteropTests
{
    /// <summary>
    /// The access pattern of read_kl_d_benchmarks.py and composite_comparsion.py, written out here: every root key that
    /// starts with chunk_ is chunk_&lt;integer&gt;; each chunk's attributes are printed as numbers ({value:.6f}); the overall
    /// statistics are json.loads(f.attrs['overall']) and must hold the composite metric's and the 3-D plot's keys.
    /// </summary>
    private const string PythonReader = """
        import sys, json, h5py
        with h5py.File(sys.argv[1], "r") as f:
            all_chunks = sorted([key for key in f.keys() if key.startswith("chunk_")])
            chunk_indices = [int(chunk.split("_")[1]) for chunk in all_chunks]
            composite = {}
            for chunk in range(min(chunk_indices), max(chunk_indices) + 1):
                key = f"chunk_{chunk}"
                if key in f:
                    stats = dict(f[key].attrs)
                    for k, v in stats.items():
                        if k != "ChunkNumber": _ = f"{k:8}: {v:.6f}"
                    composite[chunk] = (stats["Median"] ** (1 / 3)) * ((stats["KLD_99"] + stats["KLD_95"] * 4 + stats["KLD_90"] * 5) ** (2 / 3))
            assert "overall" in f.attrs
            overall = json.loads(f.attrs["overall"])
            required = {"KLD_99", "KLD_95", "KLD_90", "KLD_10", "KLD_05", "KLD_01", "Median", "Average", "StdDev", "Minimum", "Maximum"}
            assert required.issubset(overall.keys()), required - set(overall.keys())
            for k, v in overall.items(): _ = f"{k:8}: {v:.6f}"
            score = (overall["Median"] ** (1 / 3)) * ((overall["KLD_99"] + overall["KLD_95"] * 4 + overall["KLD_90"] * 5) ** (2 / 3))
            print(json.dumps({"chunks": chunk_indices, "composite": {str(k): v for k, v in composite.items()}, "overall": overall, "score": score}))
        """;

    private static List<ChunkResult> Chunks(params int[] indices)
    {
        var random = new Random(11);
        return indices.Select(c =>
        {
            int n = 40 + c;
            var kld = Enumerable.Range(0, n).Select(_ => Math.Exp(-4 + 1.5 * random.NextDouble()) / 3).ToArray();
            var lp = Enumerable.Range(0, n).Select(_ => -3 * random.NextDouble()).ToArray();
            var lq = lp.Select(v => v - 0.1 * random.NextDouble()).ToArray();
            return new ChunkResult(c, kld, lp.Zip(lq, (p, q) => Math.Exp(q) - Math.Exp(p)).ToArray(), kld.Select(k => k < 0.02).ToArray(), lp, lq, 0);
        }).ToList();
    }

    [SkippableFact]
    public void The_python_tools_readers_read_our_comparison_file()
    {
        H5py.RequireInterpreter();
        using var tmp = new TempDir();
        var chunks = Chunks(0, 2, 3, 11);
        var overall = KldStatistics.Compute(chunks);
        KldOutputFile.Write(tmp.File("cmp.h5"), chunks, overall, new Dictionary<string, string> { ["target"] = "q.gguf" }, new Dictionary<string, double> { ["n_ctx"] = 64 });

        var read = H5py.Json(PythonReader, tmp.File("cmp.h5"));
        Assert.Equal(new[] { 0, 2, 3, 11 }, read.GetProperty("chunks").EnumerateArray().Select(e => e.GetInt32()).Order());
        foreach (var c in chunks)
            Assert.Equal(KldStatistics.Compute(c).Score, read.GetProperty("composite").GetProperty(c.ChunkIndex.ToString()).GetDouble(), 1e-12);
        var python = read.GetProperty("overall");
        foreach (var (name, value) in overall.ToDictionary())
            Assert.Equal(value, python.GetProperty(name).GetDouble());
        Assert.Equal(overall.Score, read.GetProperty("score").GetDouble(), 1e-12);
    }

    [Fact]
    public void Per_token_values_and_statistics_survive_the_file_exactly()
    {
        using var tmp = new TempDir();
        var chunks = Chunks(1, 4);
        var overall = KldStatistics.Compute(chunks);
        KldOutputFile.Write(tmp.File("cmp.h5"), chunks, overall, new Dictionary<string, string>(), new Dictionary<string, double>());
        var back = KldOutputFile.Read(tmp.File("cmp.h5"));
        Assert.Equal(chunks.Select(c => c.ChunkIndex), back.Chunks.Select(c => c.ChunkIndex));
        for (int i = 0; i < chunks.Count; i++)
        {
            Assert.Equal(chunks[i].Kld, back.Chunks[i].Kld);
            Assert.Equal(chunks[i].LogProbBase, back.Chunks[i].LogProbBase);
            Assert.Equal(chunks[i].LogProbTarget, back.Chunks[i].LogProbTarget);
            Assert.Equal(chunks[i].DeltaP, back.Chunks[i].DeltaP);
        }
        Assert.Equal(overall, KldStatistics.Compute(back.Chunks));
        Assert.DoesNotContain(KldOutputFile.OverallJsonAttribute, back.Provenance.Keys);
    }

    [Fact]
    public void The_overall_json_writes_non_finite_values_as_python_reads_them()
    {
        var json = KldOutputFile.OverallJson(KldStatistics.Compute(new List<ChunkResult>()));
        Assert.Contains("\"Average\": NaN", json);
        Assert.Contains("\"Tokens\": 0", json);
        // System.Text.Json refuses bare NaN unless told; Python's json.loads accepts it by default.
        using var doc = JsonDocument.Parse(json.Replace("NaN", "null"));
        Assert.Equal(KldStatistics.Names.Count, doc.RootElement.EnumerateObject().Count());
    }
}
