using System.Runtime.CompilerServices;
using GgufOptimize.Common;
using Parquet;
using Parquet.Schema;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Reads the text (and optional language) string columns of a Parquet file one row group at a time, so memory is
/// bounded by one row group of those columns. Parquet.Net decodes the strings (invalid UTF-8 becomes U+FFFD there).
/// </summary>
internal static class ParquetTextReader
{
    public static async IAsyncEnumerable<SourceSample> ReadAsync(string file, string textColumn, string? languageColumn, string? languageTag,
        SourceReadContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = await OpenAsync(file, cancellationToken);
        await using (reader)
        {
            var fields = reader.Schema.GetDataFields();
            var text = FindStringColumn(fields, textColumn, file, "--text-field");
            var language = languageColumn is null ? null : FindStringColumn(fields, languageColumn, file, "--lang-field");
            long row = 0, counted = 0;
            for (int group = 0; group < reader.RowGroupCount; group++)
            {
                var rowGroup = reader.OpenRowGroupReader(group);
                var texts = new string?[rowGroup.RowCount];
                await rowGroup.ReadAsync(text, texts.AsMemory(), null, cancellationToken);
                string?[]? languages = null;
                if (language is not null)
                {
                    languages = new string?[rowGroup.RowCount];
                    await rowGroup.ReadAsync(language, languages.AsMemory(), null, cancellationToken);
                }
                long groupBytes = rowGroup.RowGroup.TotalCompressedSize ?? 0;
                context.Diagnostics.BytesRead += groupBytes;
                counted += groupBytes;
                for (int i = 0; i < texts.Length; i++)
                {
                    row++;
                    string? lang = languages is null ? languageTag : languages[i];
                    if (texts[i] is null || lang is null && languages is not null)
                    {
                        context.Diagnostics.MissingField.Record(file, row, "row");
                        continue;
                    }
                    if (System.Text.Encoding.UTF8.GetByteCount(texts[i]!) > context.MaxSampleBytes)
                    {
                        context.Diagnostics.Oversized.Record(file, row, "row");
                        continue;
                    }
                    context.Diagnostics.Records++;
                    yield return new SourceSample(texts[i]!, lang);
                }
            }
            // Footer and page headers: count the whole file as read once it is done.
            context.Diagnostics.BytesRead += Math.Max(0, new FileInfo(file).Length - counted);
        }
    }

    /// <summary>Why <paramref name="file"/> is not a readable Parquet file (its footer and schema), or null when it is.</summary>
    internal static async Task<string?> ProblemWithAsync(string file, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = await ParquetReader.CreateAsync(file, null, cancellationToken);
            return null;
        }
        catch (Exception e) when (e is IOException or ParquetException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    private static async Task<ParquetReader> OpenAsync(string file, CancellationToken cancellationToken)
    {
        try
        {
            return await ParquetReader.CreateAsync(file, null, cancellationToken);
        }
        catch (Exception e) when (e is IOException or ParquetException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"'{file}' is not a readable Parquet file: {e.Message}");
        }
    }

    private static DataField FindStringColumn(DataField[] fields, string name, string file, string option)
    {
        var field = fields.FirstOrDefault(f => f.Name == name || f.Path.ToString() == name)
                    ?? fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        if (field is null)
            throw GgufOptimizeException.BadInput($"Parquet file '{file}' has no column '{name}' ({option}); its columns are: {string.Join(", ", fields.Select(f => f.Name))}");
        if (field.ClrType != typeof(string) && field.ClrType != typeof(ReadOnlyMemory<char>) || field.IsArray)
            throw GgufOptimizeException.BadInput($"Parquet column '{name}' in '{file}' is not a string column ({field.ClrType.Name})");
        return field;
    }
}
