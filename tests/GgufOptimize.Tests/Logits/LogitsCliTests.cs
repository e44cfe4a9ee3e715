using System.Text.Json;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Logits;

public class LogitsCliTests
{
    [Slow]
    [SkippableFact]
    public void Killed_runs_resume_to_a_file_identical_to_an_uninterrupted_run()
    {
        using var tmp = new TempDir();
        string data = tmp.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText));
        string[] Args(string output) => ["logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", output, "-c", "32", "-b", "8", "-t", "1", "--format", "full", "--quiet"];

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reference = CliProcess.Run(Args(tmp.File("ref.h5")));
        Assert.Equal(0, reference.ExitCode);
        double runMs = clock.Elapsed.TotalMilliseconds;

        string output = tmp.File("resumed.h5");
        var rng = new Random(7);
        int kills = 0;
        for (int attempt = 0; attempt < 12 && kills < 4; attempt++)
        {
            // Once the partial file exists, a kill after a random share of a sixth of a whole run lands in the middle of
            // chunks and of flag writes, and four of them never add up to a finished run.
            if (KillAfterPartialAppears(output, TimeSpan.FromMilliseconds(rng.NextDouble() * runMs / 6), Args(output))) kills++;
            if (File.Exists(output)) break;
        }
        Assert.True(kills >= 1, "no run was interrupted; the test did not test resuming");
        Assert.False(File.Exists(output), "a killed run left a file under the final name");
        Assert.True(File.Exists(output + ".partial"));

        var resumed = CliProcess.Run(Args(output));
        Assert.Equal(0, resumed.ExitCode);
        Assert.False(File.Exists(output + ".partial"));
        Assert.Equal(File.ReadAllBytes(tmp.File("ref.h5")), File.ReadAllBytes(output));
    }

    private static bool KillAfterPartialAppears(string output, TimeSpan extra, string[] args)
    {
        using var process = CliProcess.Start(args);
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        while (!File.Exists(output + ".partial") && !process.HasExited) Thread.Sleep(5);
        if (process.WaitForExit(extra)) return false;
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return true;
    }

    [Slow]
    [SkippableFact]
    public void H5py_reads_the_documented_layout()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("data.txt"), File.ReadAllText(SharedAssets.AidreamsText)[..5000]);
        var run = CliProcess.Run("logits", "-m", SharedAssets.AidreamsModel, "-d", tmp.File("data.txt"), "-o", tmp.File("b.h5"), "--format", "full", "--json", "--quiet");
        Assert.Equal(0, run.ExitCode);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        int chunks = json.GetProperty("TotalChunks").GetInt32();
        var info = H5py.Json("""
            import sys, json, h5py, numpy as np
            f = h5py.File(sys.argv[1], 'r')
            lg = f['logits']
            row = lg[0, 1, :]
            e = np.exp(row - row.max()); p = e / e.sum()
            print(json.dumps({
              'shape': list(lg.shape), 'dtype': str(lg.dtype),
              'attrs': {k: (v.item() if hasattr(v, 'item') else str(v)) for k, v in f.attrs.items()},
              'processed': bool(f['processed_chunks'][...].all()),
              'chunk_index': f['chunk_index'][...].tolist(),
              'tokens0': f['tokens'][0, :4].tolist(),
              'psum': float(p.sum()), 'tail_zero': bool((lg[-1, f['chunk_lengths'][-1]:, :] == 0).all()),
            }))
            """, tmp.File("b.h5"));
        Assert.Equal(new[] { chunks, 128, 512 }, info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("float32", info.GetProperty("dtype").GetString());
        var attrs = info.GetProperty("attrs");
        Assert.Equal(128, attrs.GetProperty("n_ctx").GetInt32());
        Assert.Equal(512, attrs.GetProperty("n_vocab").GetInt32());
        Assert.Equal(chunks, attrs.GetProperty("total_chunks").GetInt32());
        Assert.Equal("gguf-optimize-logits-1", attrs.GetProperty("format").GetString());
        Assert.Equal("8086b86156d165a7c6057ef50a462905555a1a0145f1e2f76656292599fcb402", attrs.GetProperty("model_sha256").GetString());
        Assert.True(info.GetProperty("processed").GetBoolean());
        Assert.Equal(Enumerable.Range(0, chunks), info.GetProperty("chunk_index").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1, info.GetProperty("tokens0")[0].GetInt32());
        Assert.InRange(info.GetProperty("psum").GetDouble(), 0.999, 1.001);
        Assert.True(info.GetProperty("tail_zero").GetBoolean());
    }

    [Slow]
    [SkippableTheory]
    [InlineData("missing-model")]
    [InlineData("not-gguf")]
    [InlineData("truncated-model")]
    [InlineData("missing-dataset")]
    [InlineData("empty-dataset")]
    [InlineData("not-utf8")]
    [InlineData("context-zero")]
    [InlineData("context-too-large")]
    [InlineData("unwritable-dir")]
    [InlineData("bad-precision")]
    public void Bad_input_gives_one_error_line_exit_2_and_no_output(string scenario)
    {
        using var tmp = new TempDir();
        string model = SharedAssets.AidreamsModel, data = tmp.File("data.txt"), output = tmp.File("out.h5");
        File.WriteAllText(data, "I dream of weights and gradients.");
        var extra = new List<string>();
        string expect;
        switch (scenario)
        {
            case "missing-model": model = tmp.File("nope.gguf"); expect = "nope.gguf"; break;
            case "not-gguf": model = data; expect = "data.txt"; break;
            case "truncated-model":
                model = tmp.File("trunc.gguf");
                File.WriteAllBytes(model, File.ReadAllBytes(SharedAssets.AidreamsModel)[..400_000]);
                expect = "trunc.gguf"; break;
            case "missing-dataset": data = tmp.File("none.txt"); expect = "none.txt"; break;
            case "empty-dataset": File.WriteAllText(data, ""); expect = "empty"; break;
            case "not-utf8": File.WriteAllBytes(data, [0x41, 0xC3, 0x28, 0xFF, 0x42]); expect = "UTF-8"; break;
            case "context-zero": extra.AddRange(["-c", "-5"]); expect = "--context-size"; break;
            case "context-too-large": extra.AddRange(["-c", "4096"]); expect = "--context-size"; break;
            case "unwritable-dir": output = "/proc/ggufopt/out.h5"; expect = "--output"; break;
            case "bad-precision": extra.AddRange(["--precision", "8"]); expect = "precision"; break;
            default: throw new ArgumentException(scenario);
        }
        var r = CliProcess.Run(["logits", "-m", model, "-d", data, "-o", output, .. extra]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expect, lines[0]);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));
    }
}
