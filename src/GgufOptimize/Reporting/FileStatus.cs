using System.Text.Json.Nodes;
using GgufOptimize.Common;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Storage.Formats.LlamaCpp;

namespace GgufOptimize.Reporting;

/// <summary>
/// What one stored file holds (<c>status</c>, the Python tool's check_logits.py): its kind, whether it is finished,
/// which chunks it has and lacks as ranges, and what it was made from. Reads files only; never repairs them.
/// </summary>
internal sealed record FileStatus
{
    public required string Path { get; init; }
    /// <summary>baseline (full, compressed, compact, llama.cpp, llama-gguf-optimize), comparison, or comparison in progress.</summary>
    public required string Kind { get; init; }
    /// <summary>True when the file is under its final name (not a .partial or a .parts folder).</summary>
    public required bool Finished { get; init; }
    public int? TotalChunks { get; init; }
    public IReadOnlyList<int> Present { get; init; } = [];
    public IReadOnlyList<int> Missing { get; init; } = [];
    /// <summary>Model, dataset, engine settings and the like, as the file records them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> MadeFrom { get; init; } = [];
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Describes <paramref name="path"/>: a file, or NAME whose NAME.partial / NAME.parts is all there is.</summary>
    public static FileStatus Of(string path)
    {
        if (File.Exists(path)) return OfFile(path, finished: !path.EndsWith(".partial", StringComparison.Ordinal));
        string partial = BaselineLayout.PartialPath(path);
        if (File.Exists(partial)) return OfFile(partial, finished: false);
        string parts = KldChunkStore.PartsDirectory(path);
        if (Directory.Exists(parts)) return OfParts(path, parts);
        if (path.EndsWith(".parts", StringComparison.Ordinal) && Directory.Exists(path)) return OfParts(path[..^".parts".Length], path);
        throw GgufOptimizeException.BadInput($"'{path}' does not exist (nor '{partial}' or '{parts}')");
    }

    private static FileStatus OfFile(string path, bool finished)
    {
        StoredLogitsKind kind;
        try { kind = StoredBaselines.Detect(path); }
        catch (GgufOptimizeException) { return OfComparison(path); }
        return kind switch
        {
            StoredLogitsKind.Full => OfFull(path, finished),
            StoredLogitsKind.Compact => OfStored(path, "baseline (compact-1)", finished, CompactBaselineReader.Open(path)),
            StoredLogitsKind.QuantizedCompact => OfStored(path, "baseline (compact)", finished, QuantizedBaselineReader.Open(path)),
            StoredLogitsKind.LlamaCpp => OfStored(path, "baseline (llama.cpp .kld)", finished, LlamaCppKldReader.Open(path, null)),
            StoredLogitsKind.FullCompressed => OfPureHdf(path, "baseline (full, compressed)", finished),
            _ => OfPureHdf(path, "baseline (llama-gguf-optimize)", finished),
        };
    }

    private static FileStatus OfFull(string path, bool finished)
    {
        using var reader = BaselineLogitsReader.Open(path);
        var notes = new List<string>();
        if (reader.Slots is int slots) notes.Add($"written with kld --keep {slots}: only the last chunks are kept by design");
        if (!finished) notes.Add("unfinished: rerun the command that made it to complete it");
        return Build(path, "baseline (full)", finished, reader.TotalChunks, reader.HasChunk, Header(reader.Header, reader.Header.Precision).ToList(), notes);
    }

    private static FileStatus OfStored(string path, string kind, bool finished, IStoredBaseline stored)
    {
        using (stored)
        {
            var madeFrom = Header(stored.Header, null).ToList();
            // A header already names n_ctx; a .kld file has none.
            if (stored.Header is null) madeFrom.Add(new("n_ctx", stored.ContextSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return Build(path, kind, finished, stored.TotalChunks, stored.HasChunk, madeFrom, []);
        }
    }

    private static FileStatus OfPureHdf(string path, string kind, bool finished)
    {
        using var reader = PureHdfLogitsReader.Open(path);
        var madeFrom = Header(reader.Header, reader.Header?.Precision).ToList();
        if (reader.Header is null)
        {
            madeFrom.Add(new("n_ctx", reader.ContextSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            madeFrom.Add(new("n_vocab", reader.VocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        var notes = new List<string>();
        if (reader.OverwrittenCount > 0) notes.Add($"{reader.OverwrittenCount} chunk(s) were written and later overwritten (the Python tool's --keep)");
        if (reader.Header is null) notes.Add("llama-gguf-optimize records no model or dataset; compare it with the --dataset it was made from");
        return Build(path, kind, finished, reader.TotalChunks, reader.HasChunk, madeFrom, notes);
    }

    private static FileStatus OfComparison(string path)
    {
        var data = ComparisonReader.Read(path);
        var compared = data.ChunkScores.Select(c => c.Chunk).ToHashSet();
        var madeFrom = new List<KeyValuePair<string, string>>();
        var notes = new List<string>();
        int? from = null, to = null;
        if (!data.FromPythonTool)
        {
            var contents = KldOutputFile.Read(path);
            foreach (var key in new[] { "baseline_file", "target", "baseline_model", "baseline_model_sha256", "dataset", "dataset_sha256", "target_type",
                         "target_imatrix", "id_target_engine", "id_baseline_engine", "scored_positions", "early_stopping_reason" })
                if (contents.Provenance.TryGetValue(key, out var v) && v.Length > 0) madeFrom.Add(new(key, v));
            if (contents.Numbers.TryGetValue("from_chunk", out var f)) from = (int)f;
            if (contents.Numbers.TryGetValue("to_chunk", out var t)) to = (int)t;
            if (contents.Provenance.TryGetValue("missing_baseline_chunks", out var missing) && missing.Length > 0)
                notes.Add($"the baseline lacked chunks {Ranges.Format(missing.Split(',').Select(int.Parse).ToList())} of the range");
            if (contents.Numbers.TryGetValue("early_stopping_stopped", out var stopped) && stopped > 0)
                notes.Add("stopped early by design: the chunks not compared are estimated by the interval, not missing");
        }
        else
        {
            if (data.Baseline is { } b) madeFrom.Add(new("baseline", b));
            if (data.Target is { } tg) madeFrom.Add(new("target", tg));
            notes.Add("written by llama-gguf-optimize");
        }
        int first = from ?? (compared.Count > 0 ? compared.Min() : 0), end = to ?? (compared.Count > 0 ? compared.Max() + 1 : 0);
        return new FileStatus
        {
            Path = path, Kind = "comparison", Finished = true, TotalChunks = end - first,
            Present = compared.Order().ToList(),
            Missing = Enumerable.Range(first, end - first).Where(c => !compared.Contains(c)).ToList(),
            MadeFrom = madeFrom, Notes = notes,
        };
    }

    private static FileStatus OfParts(string output, string parts)
    {
        var chunks = Directory.EnumerateFiles(parts, "chunk_*.bin")
            .Select(f => System.IO.Path.GetFileNameWithoutExtension(f)["chunk_".Length..])
            .Select(s => int.TryParse(s, out var c) ? c : -1).Where(c => c >= 0).Order().ToList();
        var madeFrom = new List<KeyValuePair<string, string>>();
        string manifest = System.IO.Path.Combine(parts, "manifest.json");
        if (File.Exists(manifest) && JsonNode.Parse(File.ReadAllText(manifest)) is JsonObject o)
            foreach (var (k, v) in o)
                if (v is JsonValue value && value.TryGetValue<string>(out var s)) madeFrom.Add(new(k, s));
        return new FileStatus
        {
            Path = output, Kind = "comparison in progress", Finished = false, Present = chunks, MadeFrom = madeFrom,
            Notes = [$"{chunks.Count} chunk(s) compared and saved in '{parts}'; rerun the same kld command to finish (the range is known only to that command)"],
        };
    }

    private static FileStatus Build(string path, string kind, bool finished, int total, Func<int, bool> has, IReadOnlyList<KeyValuePair<string, string>> madeFrom, IReadOnlyList<string> notes)
    {
        var present = new List<int>();
        var missing = new List<int>();
        for (int c = 0; c < total; c++) (has(c) ? present : missing).Add(c);
        return new FileStatus { Path = path, Kind = kind, Finished = finished, TotalChunks = total, Present = present, Missing = missing, MadeFrom = madeFrom, Notes = notes };
    }

    private static IEnumerable<KeyValuePair<string, string>> Header(BaselineHeader? h, int? precision)
    {
        if (h is null) yield break;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        yield return new("model", h.Model.FileName);
        yield return new("model_sha256", h.Model.Sha256);
        yield return new("dataset", h.DatasetFile);
        yield return new("dataset_sha256", h.DatasetSha256);
        yield return new("n_ctx", h.ContextSize.ToString(inv));
        yield return new("n_vocab", h.VocabSize.ToString(inv));
        if (precision is int p) yield return new("precision", $"float{p}");
        if (h.Engine is not null) yield return new("engine", h.Engine);
    }

    public JsonObject ToJson() => new()
    {
        ["path"] = Path,
        ["kind"] = Kind,
        ["finished"] = Finished,
        ["complete"] = Finished && Missing.Count == 0,
        ["total_chunks"] = TotalChunks,
        ["present_chunks"] = Present.Count,
        ["present"] = Ranges.Format(Present),
        ["missing"] = Ranges.Format(Missing),
        ["made_from"] = new JsonObject(MadeFrom.Select(p => new KeyValuePair<string, JsonNode?>(p.Key, p.Value))),
        ["notes"] = new JsonArray(Notes.Select(n => (JsonNode?)n).ToArray()),
    };

    public string ToText()
    {
        var lines = new List<string>
        {
            $"{Path}: {Kind}, {(Finished ? (Missing.Count == 0 ? "complete" : "finished, with gaps") : "unfinished")}",
            TotalChunks is int t ? $"  chunks: {Present.Count} of {t} present ({Ranges.Format(Present)}); missing: {(Missing.Count == 0 ? "none" : Ranges.Format(Missing))}"
                : $"  chunks saved: {Ranges.Format(Present)}",
        };
        foreach (var (k, v) in MadeFrom) lines.Add($"  {k}: {v}");
        foreach (var n in Notes) lines.Add($"  note: {n}");
        return string.Join('\n', lines);
    }
}

/// <summary>Chunk lists as compact ranges: 0-4,7,9-12.</summary>
internal static class Ranges
{
    public static string Format(IReadOnlyList<int> sorted)
    {
        if (sorted.Count == 0) return "none";
        var parts = new List<string>();
        int start = sorted[0], prev = sorted[0];
        foreach (int c in sorted.Skip(1).Append(int.MinValue))
        {
            if (c == prev + 1) { prev = c; continue; }
            parts.Add(start == prev ? $"{start}" : $"{start}-{prev}");
            start = prev = c;
        }
        return string.Join(',', parts);
    }
}
