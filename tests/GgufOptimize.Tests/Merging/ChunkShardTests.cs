using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Tests.Merging;

/// <summary>--shard K/N: parsing, and pieces that tile the range, balanced by tokens.</summary>
public class ChunkShardTests
{
    [Theory]
    [InlineData("3")]
    [InlineData("1/0")]
    [InlineData("3/3")]
    [InlineData("-1/3")]
    [InlineData("a/b")]
    [InlineData("1/2/3")]
    public void Bad_values_name_the_option(string text)
    {
        var e = Assert.Throws<GgufOptimizeException>(() => ChunkShard.Parse(text));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.StartsWith("--shard", e.Message);
    }

    [Theory]
    [InlineData(0, 10, 3)]
    [InlineData(5, 6, 1)]
    [InlineData(2, 103, 7)]
    [InlineData(0, 4, 4)]
    public void Pieces_tile_the_range_in_order(int from, int to, int n)
    {
        var range = new ChunkRange(from, to);
        int next = from;
        for (int k = 0; k < n; k++)
        {
            var piece = ChunkShard.Parse($"{k}/{n}").Select(range, _ => 100);
            Assert.Equal(next, piece.From);
            Assert.True(piece.Count >= 1);
            // Equal weights: a split by count, pieces differ by at most one chunk.
            Assert.InRange(piece.Count, (to - from) / n, (to - from + n - 1) / n);
            next = piece.To;
        }
        Assert.Equal(to, next);
    }

    [Fact]
    public void Pieces_are_balanced_by_tokens_when_chunks_differ()
    {
        // Nine chunks of 512 tokens and a last one of 8: three shards of 3, 3 and 4 chunks (1536, 1536, 1544 tokens),
        // where the short chunk goes with the last shard.
        long Weight(int c) => c == 9 ? 8 : 512;
        var range = new ChunkRange(0, 10);
        var pieces = Enumerable.Range(0, 3).Select(k => new ChunkShard(k, 3).Select(range, Weight)).ToList();
        Assert.Equal(new[] { new ChunkRange(0, 3), new ChunkRange(3, 6), new ChunkRange(6, 10) }, pieces);

        // One heavy chunk: it makes a shard of its own, the others share the rest.
        long Heavy(int c) => c == 0 ? 1000 : 10;
        var heavy = Enumerable.Range(0, 2).Select(k => new ChunkShard(k, 2).Select(range, Heavy)).ToList();
        Assert.Equal(new[] { new ChunkRange(0, 1), new ChunkRange(1, 10) }, heavy);
    }

    [Fact]
    public void More_shards_than_chunks_is_refused()
    {
        var e = Assert.Throws<GgufOptimizeException>(() => new ChunkShard(0, 5).Select(new ChunkRange(0, 4), _ => 1));
        Assert.Contains("--shard 0/5", e.Message);
        Assert.Contains("at most 4 shards", e.Message);
    }
}
