using System.Text.Json;
using GgufOptimize.Metrics;
using GgufOptimize.Reporting;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Reporting;

/// <summary><c>report</c> on files laid out like llama-gguf-optimize's compare_logits.py output, written by h5py.</summary>
public class PythonLayoutTests
{
    /// <summary>
    /// Groups chunk_&lt;i&gt; with the seed's statistic attributes; the running sums and (optionally) the JSON 'overall'
    /// string on the root; plus a chunked, gzip-compressed dataset as h5py would store a large one.
    /// </summary>
    private const string Writer = """
        import sys, json, h5py, numpy as np
        path, with_overall, scale = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3])
        rng = np.random.default_rng(5)
        allv = []
        with h5py.File(path, "w") as f:
            for c in range(6):
                v = np.exp(rng.normal(-4, 1.2, 200)) * scale * (1 + 0.1 * c)
                allv.append(v)
                g = f.create_group(f"chunk_{c}")
                g.attrs.update({"ChunkNumber": c, "Average": v.mean(), "StdDev": v.std(), "Median": np.percentile(v, 50),
                    "Minimum": v.min(), "Maximum": v.max(), "KLD_99": np.percentile(v, 99), "KLD_95": np.percentile(v, 95),
                    "KLD_90": np.percentile(v, 90), "KLD_10": np.percentile(v, 10), "KLD_05": np.percentile(v, 5), "KLD_01": np.percentile(v, 1)})
            a = np.concatenate(allv)
            f.attrs["overall_sum"] = a.sum(); f.attrs["overall_sumsq"] = (a * a).sum()
            f.attrs["overall_min"] = a.min(); f.attrs["overall_max"] = a.max(); f.attrs["total_values"] = a.size
            f.create_dataset("kl_values", data=a, chunks=(64,), compression="gzip")
            if with_overall:
                f.attrs["overall"] = json.dumps({"Average": a.mean(), "StdDev": a.std(), "Minimum": a.min(), "Maximum": a.max(),
                    "Median": np.percentile(a, 50), "KLD_99": np.percentile(a, 99), "KLD_95": np.percentile(a, 95), "KLD_90": np.percentile(a, 90),
                    "KLD_10": np.percentile(a, 10), "KLD_05": np.percentile(a, 5), "KLD_01": np.percentile(a, 1)})
        print(json.dumps({"mean": a.mean(), "scores": [float(np.percentile(v, 50) ** (1/3) * (np.percentile(v, 99) + 4 * np.percentile(v, 95) + 5 * np.percentile(v, 90)) ** (2/3)) for v in allv]}))
        """;

    [Slow]
    [SkippableFact]
    public void Python_tool_files_are_read_and_reported()
    {
        using var dir = new TempDir();
        var expected = H5py.Json(Writer, dir.File("q4_0.h5"), "1", "1");
        H5py.Run(Writer, dir.File("q8_0.h5"), "0", "0.2");

        var data = ComparisonReader.Read(dir.File("q4_0.h5"));
        Assert.True(data.FromPythonTool);
        Assert.Null(data.Chunks);
        Assert.Equal(Enumerable.Range(0, 6), data.ChunkScores.Select(c => c.Chunk));
        var scores = expected.GetProperty("scores").EnumerateArray().Select(e => e.GetDouble()).ToList();
        for (int i = 0; i < 6; i++) Assert.Equal(scores[i], data.ChunkScores[i].Score, 9);
        Assert.Equal(expected.GetProperty("mean").GetDouble(), data.Stat("Average"), 9);
        Assert.Equal(CompositeScore.Compute(data.Stat("Median"), data.Stat("KLD_99"), data.Stat("KLD_95"), data.Stat("KLD_90")), data.Score, 12);

        var sumsOnly = ComparisonReader.Read(dir.File("q8_0.h5"));
        Assert.True(double.IsNaN(sumsOnly.Score));
        Assert.Equal(1200, sumsOnly.Stat("Tokens"));
        Assert.True(sumsOnly.Stat("Average") > 0);

        var written = IterationReportWriter.Write([dir.File("q4_0.h5"), dir.File("q8_0.h5"), ReportTests.OurFile(dir, "Q6_K", 0, "none", Workflow.ComparisonFixtures.Baseline(6, 50, 1), 6.6)],
            dir.File("report"), new ReportOptions());
        string md = File.ReadAllText(written.Markdown);
        Assert.Contains("Note: files of llama-gguf-optimize hold statistics only", md);
        Assert.Contains("| Q4_0 | 0 | q4_0 |", md); // type from the file name, since the Python tool records none
        Assert.Contains("| Q8_0 | 0 | q8_0 |", md);
        Assert.True(written.Images.Count >= 4);
        Assert.All(written.Images, i => Assert.True(new FileInfo(i).Length > 5000));
    }

    [Slow]
    [SkippableFact]
    public void The_report_command_takes_python_files_and_refuses_non_comparisons()
    {
        using var dir = new TempDir();
        H5py.Run(Writer, dir.File("a.h5"), "1", "1");
        var ok = CliProcess.Run("report", dir.File("a.h5"), "-o", dir.File("out"), "--json");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Equal("unknown type", JsonDocument.Parse(ok.Stdout).RootElement.GetProperty("types")[0].GetProperty("type").GetString());

        H5py.Run("import sys, h5py\nwith h5py.File(sys.argv[1], 'w') as f: f.create_dataset('x', data=[1, 2])", dir.File("other.h5"));
        File.WriteAllText(dir.File("text.h5"), "not hdf5");
        foreach (var (file, message) in new[] { ("other.h5", "no chunk_<i> groups"), ("text.h5", "not a readable HDF5 comparison file"), ("missing.h5", "does not exist") })
        {
            var bad = CliProcess.Run("report", dir.File(file), "-o", dir.File("bad"));
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains(message, bad.Stderr);
            Assert.Single(bad.Stderr.Trim().Split('\n'));
        }
    }
}
