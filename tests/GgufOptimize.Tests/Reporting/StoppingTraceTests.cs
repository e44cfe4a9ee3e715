using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Quantization;
using GgufOptimize.Reporting;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Reporting;

/// <summary>An early-stopped comparison records its interval at every look; report plots it and the files × chunks heat map.</summary>
[Collection("engine-workflow")]
public class StoppingTraceTests
{
    [Slow]
    [Fact]
    public void The_interval_of_every_look_is_stored_and_plotted_with_the_heat_map()
    {
        using var tmp = new TempDir();
        var quantized = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = WorkflowAssets.Model, Types = [QuantizationTypes.Parse("Q4_0"), QuantizationTypes.Parse("Q8_0")], OutputDirectory = tmp.Path, Threads = 1,
        }, NullProgress.Instance);
        var result = KldJob.Run(new KldJobOptions
        {
            BaselineModel = WorkflowAssets.Model, TargetModel = quantized[0].OutputPath, Dataset = WorkflowAssets.Evaluation,
            OutputFile = tmp.File("early.h5"), ContextSize = 128, Threads = 1, EarlyStopping = true, MinChunks = 3, MarginOfError = 0.02, Resamples = 200,
        }, NullProgress.Instance, default);
        var plain = KldJob.Run(new KldJobOptions
        {
            BaselineModel = WorkflowAssets.Model, TargetModel = quantized[1].OutputPath, Dataset = WorkflowAssets.Evaluation,
            OutputFile = tmp.File("plain.h5"), ContextSize = 128, Threads = 1,
        }, NullProgress.Instance, default);

        var trace = KldOutputFile.Read(tmp.File("early.h5")).Trace!;
        Assert.Equal(result.Provenance.EarlyStopping.Looks, trace.Count);
        Assert.True(trace.Count >= 2, $"{trace.Count} looks");
        Assert.Equal(result.Provenance.StoppingTrace.Select(l => (l.Chunks, l.Lower, l.Upper)), trace.Select(l => (l.Chunks, l.Lower, l.Upper)));
        Assert.True(trace.Zip(trace.Skip(1)).All(p => p.First.Chunks < p.Second.Chunks));
        Assert.All(trace, l => Assert.True(l.Lower <= l.Estimate && l.Estimate <= l.Upper));
        Assert.True(trace[^1].RelativeHalfWidth < trace[0].RelativeHalfWidth, "the interval must narrow as chunks are added");
        Assert.Equal(result.Provenance.EarlyStopping.Stopped, trace[^1].Stop);
        Assert.Empty(KldOutputFile.Read(tmp.File("plain.h5")).Trace!);

        var written = IterationReportWriter.Write([tmp.File("early.h5"), tmp.File("plain.h5")], tmp.File("report"), new ReportOptions());
        Assert.True(File.Exists(tmp.File("report/stopping_early.png")));
        Assert.True(File.Exists(tmp.File("report/heatmap_chunks.png")));
        Assert.False(File.Exists(tmp.File("report/stopping_plain.png")));
        string html = File.ReadAllText(Path.Combine(tmp.File("report"), "report.html"));
        Assert.Contains("stopping_early.png", html);
        Assert.Contains("heatmap_chunks.png", html);
        Assert.NotNull(written);
    }
}
