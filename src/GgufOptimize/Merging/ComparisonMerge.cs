using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Merging;

/// <summary>
/// Comparison shards into one comparison: the per-token values of every chunk are concatenated in chunk order and
/// the statistics computed again over all tokens (a median of medians is not the median). The root attributes are
/// the pieces' own, which must agree, except those that describe the range; those are recomputed as a single run
/// over the merged range would write them, so the merged file equals that run's byte for byte.
/// </summary>
internal static class ComparisonMerge
{
    /// <summary>Attributes that depend on the range a piece covered; everything else must be equal in every piece.</summary>
    private static readonly HashSet<string> RangeText = ["missing_baseline_chunks", "floor_affected_statistics"];
    private static readonly HashSet<string> RangeNumbers =
        ["from_chunk", "to_chunk", "chunks_compared", "baseline_incomplete", "floored_next_tokens", "early_stopping_chunks", "early_stopping_chunks_total"];

    public static (int From, int To) Run(IReadOnlyList<string> pieces, string output)
    {
        var contents = pieces.Select(KldOutputFile.Read).ToList();
        var first = contents[0];
        for (int i = 0; i < contents.Count; i++)
        {
            var c = contents[i];
            if (Number(c, "early_stopping_enabled", pieces[i]) != 0 || c.Provenance.GetValueOrDefault("early_stopping_order") == "random")
                throw GgufOptimizeException.BadInput($"merge: '{pieces[i]}' compared a random sample of its range (early stopping); only complete ranges add up to one comparison");
            if (i > 0) CheckSame(pieces[0], first, pieces[i], c);
        }
        var runs = contents.Select((c, i) => new PieceRanges.Run(pieces[i], (int)Number(c, "from_chunk", pieces[i]), (int)Number(c, "to_chunk", pieces[i]))).ToList();
        var (from, to) = PieceRanges.Check(runs);

        var chunks = contents.SelectMany(c => c.Chunks).OrderBy(c => c.ChunkIndex).ToList();
        var missing = contents.SelectMany(c => Ints(c.Provenance.GetValueOrDefault("missing_baseline_chunks") ?? "")).Order().ToList();
        long floored = chunks.Sum(c => (long)c.FlooredNextTokens);

        var text = first.Provenance.Where(kv => kv.Key != "format").ToDictionary();
        text["missing_baseline_chunks"] = string.Join(',', missing);
        text["floor_affected_statistics"] = floored > 0 ? ComparisonProvenance.FloorAffected : "";
        var numbers = new Dictionary<string, double>(first.Numbers)
        {
            ["from_chunk"] = from,
            ["to_chunk"] = to,
            ["chunks_compared"] = chunks.Count,
            ["baseline_incomplete"] = missing.Count > 0 ? 1 : 0,
            ["floored_next_tokens"] = floored,
            ["early_stopping_chunks"] = chunks.Count,
            ["early_stopping_chunks_total"] = contents.Sum(c => Number(c, "early_stopping_chunks_total", pieces[0])),
        };
        KldOutputFile.Write(output, chunks, KldStatistics.Compute(chunks), text, numbers);
        return (from, to);
    }

    private static void CheckSame(string firstPath, KldOutputFile.Contents first, string path, KldOutputFile.Contents other)
    {
        foreach (var key in first.Provenance.Keys.Union(other.Provenance.Keys))
        {
            if (RangeText.Contains(key)) continue;
            string? a = first.Provenance.GetValueOrDefault(key), b = other.Provenance.GetValueOrDefault(key);
            if (a != b)
                throw GgufOptimizeException.BadInput($"merge: '{path}' and '{firstPath}' come from different inputs ({key} is '{b ?? "missing"}' vs '{a ?? "missing"}'); merge only the shards of one comparison");
        }
        foreach (var key in first.Numbers.Keys.Union(other.Numbers.Keys))
        {
            if (RangeNumbers.Contains(key)) continue;
            double? a = first.Numbers.TryGetValue(key, out var x) ? x : null, b = other.Numbers.TryGetValue(key, out var y) ? y : null;
            if (!Equals(a, b))
                throw GgufOptimizeException.BadInput($"merge: '{path}' and '{firstPath}' come from different inputs ({key} is {Show(b)} vs {Show(a)}); merge only the shards of one comparison");
        }
    }

    private static string Show(double? v) => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "missing";

    private static double Number(KldOutputFile.Contents c, string key, string path) =>
        c.Numbers.TryGetValue(key, out var v) ? v : throw GgufOptimizeException.BadInput($"merge: comparison '{path}' has no '{key}' attribute (written by an older version); run that shard again");

    private static IEnumerable<int> Ints(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture));
}
