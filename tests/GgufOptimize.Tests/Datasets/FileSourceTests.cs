using GgufOptimize.Common;
using GgufOptimize.Datasets.Sources;
using GgufOptimize.Tests.Support;
using static GgufOptimize.Tests.Datasets.SourceTestHelpers;

namespace GgufOptimize.Tests.Datasets;

public class FileSourceTests
{
    [Fact]
    public async Task Text_paragraphs_lines_and_files_split_as_asked()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File("corpus/sub"));
        File.WriteAllText(tmp.File("corpus/a.txt"), "\uFEFFfirst para\r\nline two\r\n\r\n\r\nsecond para\n   \nthird\n");
        File.WriteAllText(tmp.File("corpus/sub/b.txt"), "only one");
        File.WriteAllText(tmp.File("corpus/.hidden.txt"), "never");

        var (paragraphs, d) = await ReadAll(new TextFileSource(tmp.File("corpus")));
        Assert.Equal(["first para\nline two", "second para", "third", "only one"], paragraphs.Select(s => s.Text));
        Assert.Equal(2, d.Files);
        Assert.All(paragraphs, s => Assert.Null(s.Language));

        var (lines, _) = await ReadAll(new TextFileSource(tmp.File("corpus/a.txt"), TextSplit.Line, "en"));
        Assert.Equal(["first para", "line two", "second para", "third"], lines.Select(s => s.Text));
        Assert.All(lines, s => Assert.Equal("en", s.Language));

        var (files, _) = await ReadAll(new TextFileSource(tmp.File("corpus/**/*.txt"), TextSplit.File));
        Assert.Equal(2, files.Count);
        Assert.StartsWith("first para\r\nline two", files[0].Text);
        Assert.Equal("only one", files[1].Text);
    }

    [Fact]
    public async Task Text_invalid_utf8_is_replaced_or_skipped_and_counted()
    {
        using var tmp = new TempDir();
        WriteBytes(tmp.File("bad.txt"), "good one\n", new byte[] { 0x62, 0x61, 0x64, 0xFF, 0xFE, 0x0A }, "good two\n");
        var (replaced, d1) = await ReadAll(new TextFileSource(tmp.File("bad.txt"), TextSplit.Line));
        Assert.Equal(3, replaced.Count);
        Assert.Equal("bad\uFFFD\uFFFD", replaced[1].Text);
        Assert.Equal(1, d1.InvalidUtf8Replaced.Count);
        Assert.Equal([$"{tmp.File("bad.txt")}:2"], d1.InvalidUtf8Replaced.FirstLocations);

        var (skipped, d2) = await ReadAll(new TextFileSource(tmp.File("bad.txt"), TextSplit.Line), InvalidUtf8Policy.Skip);
        Assert.Equal(["good one", "good two"], skipped.Select(s => s.Text));
        Assert.Equal(1, d2.InvalidUtf8Skipped.Count);
    }

    [Fact]
    public async Task Oversized_records_are_skipped_without_being_held()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("big.jsonl"), "{\"text\":\"short\"}\n{\"text\":\"" + new string('x', 5000) + "\"}\n{\"text\":\"after\"}\n");
        var (samples, d) = await ReadAll(new JsonLinesSource(tmp.File("big.jsonl"), JsonFieldPath.Parse("text")), maxSampleBytes: 1000);
        Assert.Equal(["short", "after"], samples.Select(s => s.Text));
        Assert.Equal(1, d.Oversized.Count);
        Assert.Equal([$"{tmp.File("big.jsonl")}:2"], d.Oversized.FirstLocations);

        File.WriteAllText(tmp.File("big.txt"), "a\n\n" + string.Join("\n", Enumerable.Repeat(new string('y', 300), 10)) + "\n\nb\n");
        var (paragraphs, d2) = await ReadAll(new TextFileSource(tmp.File("big.txt")), maxSampleBytes: 1000);
        Assert.Equal(["a", "b"], paragraphs.Select(s => s.Text));
        Assert.Equal(1, d2.Oversized.Count);
    }

    [Fact]
    public async Task Jsonl_skips_malformed_lines_and_missing_fields_and_reports_line_numbers()
    {
        using var tmp = new TempDir();
        string path = tmp.File("c.jsonl");
        File.WriteAllLines(path, [
            """{"text": "hello", "meta": {"lang": "en"}}""",
            """{"text": "broken" """,
            "",
            """{"meta": {"lang": "es"}}""",
            """[1, 2]""",
            """{"text": "hola", "meta": {"lang": "es"}}""",
            """{"text": 42, "meta": {"lang": "es"}}""",
            """{"text": "sin idioma"}""",
            """not json at all""",
        ]);
        var (samples, d) = await ReadAll(new JsonLinesSource(path, JsonFieldPath.Parse("text"), JsonFieldPath.Parse("meta.lang", "--lang-field")));
        Assert.Equal([("hello", "en"), ("hola", "es")], samples.Select(s => (s.Text, s.Language!)));
        Assert.Equal(3, d.Malformed.Count);
        Assert.Equal([$"{path}:2", $"{path}:5", $"{path}:9"], d.Malformed.FirstLocations);
        Assert.Equal(3, d.MissingField.Count);
        Assert.Equal([$"{path}:4", $"{path}:7", $"{path}:8"], d.MissingField.FirstLocations);
        Assert.Equal(2, d.Records);
        Assert.Equal(new FileInfo(path).Length, d.BytesRead);
    }

    [Fact]
    public async Task Jsonl_field_paths_index_arrays_and_invalid_utf8_follows_policy()
    {
        using var tmp = new TempDir();
        string path = tmp.File("m.jsonl");
        WriteBytes(path, """{"messages": [{"content": "first"}, {"content": "second"}]}""" + "\n",
            "{\"messages\": [{\"content\": \"caf", new byte[] { 0xE9 }, "\"}]}\n");
        var (samples, d) = await ReadAll(new JsonLinesSource(path, JsonFieldPath.Parse("messages.0.content")));
        Assert.Equal(["first", "caf\uFFFD"], samples.Select(s => s.Text));
        Assert.Equal(1, d.InvalidUtf8Replaced.Count);
        var (skipped, d2) = await ReadAll(new JsonLinesSource(path, JsonFieldPath.Parse("messages.1.content")), InvalidUtf8Policy.Skip);
        Assert.Equal(["second"], skipped.Select(s => s.Text));
        Assert.Equal(1, d2.InvalidUtf8Skipped.Count);
    }

    [Fact]
    public async Task Json_array_streams_elements_and_stops_at_a_syntax_error()
    {
        using var tmp = new TempDir();
        // Longer than the reader's first buffer, so elements straddle refills.
        var items = Enumerable.Range(0, 3000).Select(i => $$"""{"text": "item {{i}} {{new string('z', i % 50)}}", "lang": "{{(i % 2 == 0 ? "en" : "es")}}", "n": [1, {"x": null}]}""");
        File.WriteAllText(tmp.File("all.json"), " [\n" + string.Join(",\n", items) + "\n]\n");
        var (samples, d) = await ReadAll(new JsonArraySource(tmp.File("all.json"), JsonFieldPath.Parse("text"), JsonFieldPath.Parse("lang", "--lang-field")));
        Assert.Equal(3000, samples.Count);
        Assert.Equal("item 2999 " + new string('z', 2999 % 50), samples[^1].Text);
        Assert.Equal("es", samples[^1].Language);
        Assert.Equal(0, d.Malformed.Count);

        File.WriteAllText(tmp.File("cut.json"), """[{"text": "a"}, {"notext": 1}, "string", {"text": "b"}, {"text": "c" """);
        var (cut, d2) = await ReadAll(new JsonArraySource(tmp.File("cut.json"), JsonFieldPath.Parse("text")));
        Assert.Equal(["a", "b"], cut.Select(s => s.Text));
        Assert.Equal(1, d2.MissingField.Count);
        Assert.Equal(2, d2.Malformed.Count); // the non-object element, then the truncation
        Assert.Contains("truncated", d2.Malformed.FirstLocations[1]);

        File.WriteAllText(tmp.File("obj.json"), """{"text": "not an array"}""");
        var (none, d3) = await ReadAll(new JsonArraySource(tmp.File("obj.json"), JsonFieldPath.Parse("text")));
        Assert.Empty(none);
        Assert.Contains("not a JSON array", d3.Malformed.FirstLocations[0]);
    }

    [Fact]
    public async Task Json_array_skips_an_oversized_element_and_continues()
    {
        using var tmp = new TempDir();
        var big = string.Join(",", Enumerable.Range(0, 2000).Select(i => $$"""{"k{{i}}": "{{new string('q', 20)}}"}"""));
        File.WriteAllText(tmp.File("o.json"), $$"""[{"text": "before"}, {"text": "huge", "pad": [{{big}}]}, {"text": "after"}]""");
        var (samples, d) = await ReadAll(new JsonArraySource(tmp.File("o.json"), JsonFieldPath.Parse("text")), maxSampleBytes: 4096);
        Assert.Equal(["before", "after"], samples.Select(s => s.Text));
        Assert.Equal(1, d.Oversized.Count);
    }

    [Fact]
    public async Task Csv_and_tsv_handle_quotes_multiline_fields_and_malformed_rows()
    {
        using var tmp = new TempDir();
        string csv = tmp.File("d.csv");
        File.WriteAllText(csv, "id,lang,text\r\n1,en,plain\r\n2,es,\"quoted, with comma\"\r\n3,en,\"two\nlines and \"\"quotes\"\"\"\r\n4,en\r\n5,es,\"bad\"tail\r\n\r\n6,,no language\n7,ca,\"last\"");
        var (samples, d) = await ReadAll(new CsvSource(csv, ',', "text", "lang"));
        Assert.Equal([("plain", "en"), ("quoted, with comma", "es"), ("two\nlines and \"quotes\"", "en"), ("last", "ca")],
            samples.Select(s => (s.Text, s.Language!)));
        Assert.Equal([$"{csv}:6", $"{csv}:7"], d.Malformed.FirstLocations);
        Assert.Equal([$"{csv}:9"], d.MissingField.FirstLocations);

        string tsv = tmp.File("d.tsv");
        File.WriteAllText(tsv, "text\tlang\nhello there\ten\n\"unterminated\ten\n");
        var (tab, d2) = await ReadAll(new CsvSource(tsv, '\t', "text", "lang"));
        Assert.Equal(["hello there"], tab.Select(s => s.Text));
        Assert.Equal(1, d2.Malformed.Count);

        var e = Assert.Throws<GgufOptimizeException>(() => ReadAll(new CsvSource(csv, ',', "body")).GetAwaiter().GetResult());
        Assert.Contains("no column 'body'", e.Message);
        Assert.Contains("id, lang, text", e.Message);
    }

    [Fact]
    public async Task Parquet_reads_string_columns_across_row_groups()
    {
        using var tmp = new TempDir();
        await ParquetFixtures.Write(tmp.File("p/part-0.parquet"), [("uno", "es"), (null, "es"), ("one", "en")], rowGroups: 2);
        await ParquetFixtures.Write(tmp.File("p/part-1.parquet"), [("dos", "es"), ("two", null)]);
        var source = new ParquetSource(tmp.File("p"), "text", "lang");
        var (samples, d) = await ReadAll(source);
        // Row groups repeat the rows given, so part-0 yields its rows twice.
        Assert.Equal([("uno", "es"), ("one", "en"), ("uno", "es"), ("one", "en"), ("dos", "es")], samples.Select(s => (s.Text, s.Language!)));
        Assert.Equal(3, d.MissingField.Count);
        Assert.Equal(2, d.Files);
        Assert.Equal(source.TotalBytes, d.BytesRead);

        var e = Assert.Throws<GgufOptimizeException>(() => ReadAll(new ParquetSource(tmp.File("p"), "n")).GetAwaiter().GetResult());
        Assert.Contains("not a string column", e.Message);
        File.WriteAllText(tmp.File("fake.parquet"), "not parquet");
        e = Assert.Throws<GgufOptimizeException>(() => ReadAll(new ParquetSource(tmp.File("fake.parquet"), "text")).GetAwaiter().GetResult());
        Assert.Contains("not a readable Parquet file", e.Message);
    }

    [Fact]
    public void Specs_choose_kinds_tags_and_report_missing_files()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("a.jsonl"), "");
        File.WriteAllText(tmp.File("b.txt"), "");
        var settings = new SourceSettings { LanguageField = "lang" };
        Assert.IsType<JsonLinesSource>(DatasetSourceKinds.Create(tmp.File("a.jsonl"), settings));
        var tagged = DatasetSourceKinds.Create($"text@ca:{tmp.File("b.txt")}", settings);
        Assert.IsType<TextFileSource>(tagged);
        Assert.True(tagged.ProvidesLanguage);
        Assert.StartsWith("text@ca:", tagged.Description);
        Assert.False(DatasetSourceKinds.Create(tmp.File("b.txt"), settings).ProvidesLanguage);
        Assert.Equal(new SourceSpec("jsonl", null, "x/*.jsonl"), SourceSpec.Parse("jsonl:x/*.jsonl", DatasetSourceKinds.Kinds));
        Assert.Equal("text", SourceSpec.Parse(@"C:\data\x.txt", DatasetSourceKinds.Kinds).Kind);

        var e = Assert.Throws<GgufOptimizeException>(() => DatasetSourceKinds.Create($"jsonl:{tmp.File("nope/*.jsonl")}", settings));
        Assert.Contains("does not exist", e.Message);
        e = Assert.Throws<GgufOptimizeException>(() => DatasetSourceKinds.Create($"jsonl:{tmp.File("*.csv")}", settings));
        Assert.Contains("matches no files", e.Message);
        e = Assert.Throws<GgufOptimizeException>(() => DatasetSourceKinds.Create(tmp.File("missing.txt"), settings));
        Assert.Contains("does not exist", e.Message);
    }
}
