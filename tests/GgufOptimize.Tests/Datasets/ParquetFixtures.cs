using Parquet;
using Parquet.Schema;

namespace GgufOptimize.Tests.Datasets;

/// <summary>Writes small Parquet files with Parquet.Net: text and lang string columns plus an int column.</summary>
internal static class ParquetFixtures
{
    public static async Task Write(string path, IReadOnlyList<(string? Text, string? Lang)> rows, int rowGroups = 1)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = new DataField<string>("text", true);
        var lang = new DataField<string>("lang", true);
        var n = new DataField<int>("n");
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(text, lang, n), stream);
        for (int g = 0; g < rowGroups; g++)
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(text, rows.Select(r => r.Text).ToArray()!, null);
            await group.WriteAsync(lang, rows.Select(r => r.Lang).ToArray()!, null);
            await group.WriteAsync<int>(n, Enumerable.Range(0, rows.Count).ToArray().AsMemory(), null);
        }
    }
}
