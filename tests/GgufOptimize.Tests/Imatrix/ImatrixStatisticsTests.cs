using GgufOptimize.Imatrix;

namespace GgufOptimize.Tests.Imatrix;

public class ImatrixStatisticsTests
{
    [Fact]
    public void Statistics_use_per_channel_means_skip_empty_experts_and_total_per_layer()
    {
        var m = new ImportanceMatrix { ChunkCount = 3, ChunkSize = 4, Datasets = { "d.txt" } };
        m.Add("blk.10.attn_q.weight", [4, 8, 40, 0], [4]);                 // means 1, 2, 10, 0
        m.Add("blk.2.ffn_up_exps.weight", [2, 4, 9, 9], [2, 0]);          // expert 1 saw nothing
        m.Add("output.weight", [3, 6], [3]);                               // means 1, 2
        var s = ImatrixStatistics.Compute(m, top: 2);

        Assert.Equal(["blk.2.ffn_up_exps.weight", "blk.10.attn_q.weight", "output.weight"], s.Tensors.Select(t => t.Name));
        var q = s.Tensors[1];
        Assert.Equal("10", q.Layer);
        Assert.Equal(13, q.Sum, 12);
        Assert.Equal(13 / 4.0, q.Mean, 12);
        Assert.Equal(10, q.Max, 12);
        Assert.Equal(4, q.Rows);
        Assert.Equal([2, 1], q.TopChannels.Select(c => c.Channel));
        var experts = s.Tensors[0];
        Assert.Equal(3, experts.Sum, 12); // 1 + 2 from expert 0 only
        Assert.Equal(2, experts.Groups);
        Assert.All(experts.TopChannels, c => Assert.Equal(0, c.Expert));

        Assert.Equal(["2", "10", "-"], s.Layers.Select(l => l.Layer));
        Assert.Equal(1, s.Layers[2].Tensors);
        Assert.Equal(3, s.Layers[2].Sum, 12);
        Assert.Equal(1.5, s.Layers[2].Mean, 12);
        Assert.Equal(["d.txt"], s.Datasets);
    }
}
