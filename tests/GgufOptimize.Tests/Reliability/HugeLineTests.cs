using System.Diagnostics;
using System.Text;
using GgufOptimize.Engine;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// A text that is one enormous line is tokenized in bounded pieces (Engine/TextPieces.cs): the same tokens as one
/// call, progress while it runs, and memory that does not grow with the line (one call took 2.3 GB for 50 MB).
/// </summary>
[Collection("engine-workflow")]
public class HugeLineTests(ITestOutputHelper output)
{
    /// <summary>The evaluation text as one line, repeated to at least <paramref name="chars"/> characters.</summary>
    private static string OneLine(int chars)
    {
        string line = string.Join(' ', File.ReadAllText(WorkflowAssets.Evaluation).Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        var sb = new StringBuilder(chars + line.Length);
        while (sb.Length < chars) sb.Append(line).Append(' ');
        return sb.ToString().TrimEnd();
    }

    [Slow]
    [Fact]
    public void Pieces_give_the_tokens_of_one_call()
    {
        string text = OneLine(3 * TextPieces.PieceChars);
        using var model = LlamaModel.Load(WorkflowAssets.Model);
        var progress = new CountingProgress();
        var pieces = model.Tokenize(text, progress);
        var whole = WholeTokens(model, text);
        Assert.Equal(whole.Length, pieces.Length);
        Assert.True(whole.AsSpan().SequenceEqual(pieces), "pieces differ from one call");
        Assert.True(progress.Reports >= 2, $"{progress.Reports} progress reports");
    }

    /// <summary>One llama.cpp call over the whole text, bypassing the pieces (what the old code did).</summary>
    private static int[] WholeTokens(LlamaModel model, string text)
    {
        var tokens = model.Handle.Tokenize(text, false, false, Encoding.UTF8);
        return tokens.Select(t => (int)t).ToArray();
    }

    [Slow]
    [Fact]
    public async Task Logits_on_a_multi_megabyte_single_line_stays_small_and_reports_progress()
    {
        using var dir = new TempDir();
        string text = dir.File("line.txt");
        File.WriteAllText(text, OneLine(3 << 20));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { CliProcess.DllPath, "logits", "-m", WorkflowAssets.Model, "-d", text, "-o", dir.File("b.h5"), "-c", "64", "--to-chunk", "1", "-t", "1" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        long peakKb = 0;
        while (!process.WaitForExit(20))
        {
            // VmHWM is the high-water mark of resident memory: the last reading before exit is the peak so far.
            try
            {
                foreach (var l in File.ReadLines($"/proc/{process.Id}/status"))
                    if (l.StartsWith("VmHWM:")) peakKb = Math.Max(peakKb, long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
            }
            catch (IOException) { }
        }
        string errors = await stderr;
        await stdout;
        Assert.True(process.ExitCode == 0, errors);
        output.WriteLine($"peak resident memory {peakKb / 1024} MB for a {new FileInfo(text).Length >> 20} MB line");
        Assert.Contains("tokenizing", errors);
        // Measured for this 3 MB line: 104 MB in pieces, 221 MB in one llama.cpp call (about 40 bytes per character
        // on top of the runtime, which is how 50 MB reached 2.3 GB).
        Assert.True(peakKb < 160 * 1024, $"peak resident memory {peakKb / 1024} MB");
    }

    private sealed class CountingProgress : GgufOptimize.Common.IProgressSink
    {
        public int Reports;
        public void Start(string description, long total) { }
        public void Report(long done, long tokens = 0) => Reports++;
        public void Info(string message) { }
        public void Warn(string message) { }
        public void Finish() { }
    }
}
