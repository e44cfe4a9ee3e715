using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage;

/// <summary>
/// A stored baseline's rows are read from the file (positional reads into the scorer's scratch) rather than through the
/// memory map; they must be the mapped values bit for bit (float16 widened exactly), for every row of every chunk, a
/// short last chunk included, when two threads read at once as scoring does.
/// </summary>
public class BaselineRowsReadTests
{
    [Theory]
    [InlineData(32, 1000)]
    [InlineData(16, 33)]
    public void Rows_read_from_the_file_equal_the_mapped_rows(int precision, int vocab)
    {
        using var tmp = new TempDir();
        string path = tmp.File("base.h5");
        int[] lengths = [40, 40, 17];
        var header = new BaselineHeader
        {
            ContextSize = 40, VocabSize = vocab, TotalChunks = lengths.Length, Precision = precision,
            Model = new ModelIdentity("m.gguf", 1, new string('a', 64)),
            DatasetFile = "d.txt", DatasetSha256 = new string('b', 64), TokenizerSha256 = new string('c', 64),
            AddBos = true, AddEos = false,
        };
        var random = new Random(precision + vocab);
        using (var file = BaselineLogitsFile.OpenOrCreate(path, header, new FixedChunks(40, lengths, vocab), clobber: false, NullProgress.Instance))
        {
            for (int c = 0; c < lengths.Length; c++)
            {
                var logits = new float[lengths[c] * vocab];
                for (int i = 0; i < logits.Length; i++)
                    logits[i] = i % 97 == 5 ? -0f : (float)((random.NextDouble() - 0.5) * (i % 3 == 0 ? 60 : 1e4));
                file.WriteLogits(c, 0, logits);
                file.MarkProcessed(c);
            }
            Assert.True(file.Complete(0, lengths.Length));
        }

        using var reader = BaselineLogitsReader.Open(path);
        for (int c = 0; c < lengths.Length; c++)
        {
            var mapped = new float[lengths[c] * vocab];
            if (precision == 16) HalfConversion.ToSingle(reader.ChunkLogitsHalf(c), mapped);
            else reader.ChunkLogits(c).CopyTo(mapped);
            var rows = reader.ChunkRows(c);
            Assert.Equal(lengths[c], rows.Count);
            // Two threads, each with its own scratch, read interleaved rows as the scorer's parts do.
            Parallel.For(0, 2, part =>
            {
                var scratch = new float[vocab + 3];
                for (int j = part; j < rows.Count; j += 2)
                {
                    var row = rows.Row(j, scratch);
                    Assert.Equal(vocab, row.Length);
                    for (int i = 0; i < vocab; i++)
                        Assert.Equal(BitConverter.SingleToUInt32Bits(mapped[j * vocab + i]), BitConverter.SingleToUInt32Bits(row[i]));
                }
            });
            Assert.Throws<ArgumentOutOfRangeException>(() => rows.Row(rows.Count, new float[vocab]));
        }
    }
}
