using System.Globalization;
using GgufOptimize.Common;

namespace GgufOptimize.Gguf;

/// <summary>
/// Split GGUF models as llama.cpp writes and loads them (gguf-split, llama_split_path/llama_split_prefix at the pinned
/// commit): shard k (0-based) of n is named <c>PREFIX-{k+1:00000}-of-{n:00000}.gguf</c>; every shard carries
/// <c>split.no</c> (u16, k), <c>split.count</c> (u16, n) and <c>split.tensors.count</c> (i32, the tensors of all
/// shards); the first shard also holds the model's metadata, and each tensor lives in exactly one shard.
/// </summary>
internal static class GgufSplits
{
    public const string NoKey = "split.no";
    public const string CountKey = "split.count";
    public const string TensorsCountKey = "split.tensors.count";

    /// <summary>llama_split_path: the path of shard <paramref name="index"/> (0-based) of <paramref name="count"/>.</summary>
    public static string ShardPath(string prefix, int index, int count) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{index + 1:D5}-of-{count:D5}.gguf");

    /// <summary>
    /// When <paramref name="path"/> is named like a shard (…-0000K-of-0000N.gguf, 1 ≤ K ≤ N): its prefix, its 0-based
    /// number and the shard count; otherwise null.
    /// </summary>
    public static (string Prefix, int Index, int Count)? ParseName(string path)
    {
        // PREFIX-NNNNN-of-NNNNN.gguf, read by hand: it is checked on every model a command opens, and a regular
        // expression loaded and built the regex engine on the start-up path for this one test.
        const string of = "-of-", extension = ".gguf";
        const int digits = 5, tail = 1 + digits + 4 + digits + 5; // "-NNNNN-of-NNNNN.gguf"
        if (path.Length <= tail || !path.EndsWith(extension, StringComparison.Ordinal)) return null;
        int dash = path.Length - tail;
        var name = path.AsSpan(dash);
        if (name[0] != '-' || !name.Slice(1 + digits, of.Length).SequenceEqual(of)) return null;
        if (!TryDigits(name.Slice(1, digits), out int no) || !TryDigits(name.Slice(1 + digits + of.Length, digits), out int count)) return null;
        string prefix = path[..dash];
        if (prefix.Contains('\n') || no < 1 || no > count) return null;
        return (prefix, no - 1, count);
    }

    private static bool TryDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }

    /// <summary>
    /// Every shard of the model <paramref name="path"/> belongs to, in order (just <paramref name="path"/> for an
    /// unsplit file), known from the name alone; a missing shard is bad input naming it.
    /// </summary>
    public static IReadOnlyList<string> ShardPaths(string path)
    {
        if (ParseName(path) is not { } name) return [path];
        var paths = Enumerable.Range(0, name.Count).Select(i => ShardPath(name.Prefix, i, name.Count)).ToList();
        foreach (var p in paths)
            if (!File.Exists(p)) throw Missing(path, p, paths.IndexOf(p), name.Count);
        return paths;
    }

    /// <summary>The first shard of a split model (what llama.cpp must be given), or <paramref name="path"/> itself.</summary>
    public static string FirstShard(string path) => ParseName(path) is { } name ? ShardPath(name.Prefix, 0, name.Count) : path;

    /// <summary>The name an unsplit copy would have (prefix + .gguf): what output names are made from.</summary>
    public static string UnsplitName(string path) => ParseName(path) is { } name ? name.Prefix + ".gguf" : path;

    /// <summary>
    /// Reads a model given by any of its shards as one <see cref="GgufFile"/> holding the tensors of all shards and
    /// the first shard's metadata. Each shard must say it is that shard of that many, with the same total tensor count,
    /// and together hold exactly that many distinct tensors; otherwise bad input naming the shard.
    /// </summary>
    internal static GgufFile Read(string path, Func<string, GgufFile> readOne)
    {
        var given = readOne(path);
        int count = (int)(given.Metadata.GetInteger(CountKey) ?? 0);
        var name = ParseName(path);
        if (count <= 1 && (name is null || name.Value.Count == 1)) return given;
        if (count <= 1)
            throw GgufOptimizeException.BadInput($"'{path}' is named as split {name!.Value.Index + 1} of {name.Value.Count} but has no {CountKey} metadata: it is not a shard (rename it, or give the whole model's first shard)");
        if (name is null || name.Value.Count != count)
            throw GgufOptimizeException.BadInput($"'{path}' is a shard of a model split in {count} ({CountKey}), but its name does not end in -0000K-of-{count:D5}.gguf, so the other shards cannot be found (keep gguf-split's names)");
        var paths = Enumerable.Range(0, count).Select(i => ShardPath(name.Value.Prefix, i, count)).ToList();
        var shards = new List<GgufFile>(count);
        long? total = null;
        for (int i = 0; i < count; i++)
        {
            string p = paths[i];
            if (!File.Exists(p)) throw Missing(path, p, i, count);
            var shard = string.Equals(Path.GetFullPath(p), Path.GetFullPath(path), StringComparison.Ordinal) ? given : readOne(p);
            long? no = shard.Metadata.GetInteger(NoKey), shardCount = shard.Metadata.GetInteger(CountKey), tensors = shard.Metadata.GetInteger(TensorsCountKey);
            if (shardCount != count)
                throw GgufOptimizeException.BadInput($"shard '{p}' belongs to a model split in {(shardCount is null ? "no" : shardCount.ToString())} parts, not {count} like '{paths[0]}': the shards come from different models");
            if (no != i)
                throw GgufOptimizeException.BadInput($"shard '{p}' says it is split {(no is null ? "?" : (no + 1).ToString())} ({NoKey}), but its name makes it split {i + 1} of {count}: the shards were renamed or mixed");
            if (tensors is null || (total is not null && tensors != total))
                throw GgufOptimizeException.BadInput($"shard '{p}' says the model has {(tensors is null ? "no" : tensors.ToString())} tensors ({TensorsCountKey}), not {total} like '{paths[0]}': the shards come from different models");
            total = tensors;
            shards.Add(shard);
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
            foreach (var t in shards[i].Tensors)
                if (!seen.Add(t.Name))
                    throw GgufOptimizeException.BadInput($"shard '{paths[i]}' repeats tensor '{t.Name}' of an earlier shard: the shards come from different splits");
        if (seen.Count != total)
            throw GgufOptimizeException.BadInput($"the {count} shards of '{paths[0]}' hold {seen.Count} tensors, but {TensorsCountKey} says {total}: a shard is truncated or from another model");
        return GgufFile.Union(shards);
    }

    private static GgufOptimizeException Missing(string given, string missing, int index, int count) =>
        GgufOptimizeException.BadInput($"shard '{missing}' (split {index + 1} of {count}) of the model '{given}' is missing: all {count} shards must be in the same folder");

    /// <summary>
    /// Writes <paramref name="source"/> as shards next to <paramref name="outputPath"/> (PREFIX-0000K-of-0000N.gguf, with
    /// PREFIX = <paramref name="outputPath"/> without .gguf), each holding whole tensors in the source's order up to
    /// <paramref name="maxTensors"/> tensors or <paramref name="maxBytes"/> bytes of tensor data (a tensor larger than
    /// that gets a shard of its own). Tensor bytes are streamed from the source; each shard appears under its final
    /// name only when complete. Returns the shard paths.
    /// </summary>
    public static IReadOnlyList<string> Write(GgufFile source, string outputPath, long maxBytes, int maxTensors,
        IProgressSink? progress = null, CancellationToken cancellationToken = default)
    {
        if (maxBytes <= 0 && maxTensors <= 0) throw new ArgumentException("give a size or a tensor limit");
        var groups = new List<List<GgufTensorInfo>>();
        long bytes = 0;
        foreach (var t in source.Tensors)
        {
            bool full = groups.Count == 0
                || (maxTensors > 0 && groups[^1].Count >= maxTensors)
                || (maxBytes > 0 && groups[^1].Count > 0 && bytes + t.ByteSize > maxBytes);
            if (full)
            {
                groups.Add([]);
                bytes = 0;
            }
            groups[^1].Add(t);
            bytes += t.ByteSize;
        }
        if (groups.Count == 0) groups.Add([]);
        if (groups.Count > ushort.MaxValue) throw GgufOptimizeException.BadInput($"the split limits would make {groups.Count} shards (at most {ushort.MaxValue})");
        string prefix = outputPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? outputPath[..^5] : outputPath;
        var paths = new List<string>();
        for (int i = 0; i < groups.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Like gguf-split: the first shard keeps the model's metadata, the others only the split keys.
            var metadata = i == 0 ? source.Metadata.Clone() : new GgufMetadata();
            if (i > 0 && source.Metadata.TryGet(GgufKeys.Alignment, out var alignment)) metadata.Set(GgufKeys.Alignment, alignment);
            metadata.Set(NoKey, GgufValue.UInt16((ushort)i));
            metadata.Set(CountKey, GgufValue.UInt16((ushort)groups.Count));
            metadata.Set(TensorsCountKey, GgufValue.Int32(source.Tensors.Count));
            var writer = new GgufWriter(metadata);
            foreach (var t in groups[i])
            {
                var tensor = t;
                writer.AddTensor(t.Name, t.Type, t.Dimensions.ToArray(), s => source.CopyTensorBytes(tensor, s, cancellationToken));
            }
            string path = ShardPath(prefix, i, groups.Count);
            writer.Write(path, progress, cancellationToken);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>Parses a --split-max-size value: a byte count with an optional K, M, G or T suffix (powers of 1000, as gguf-split counts).</summary>
    public static long ParseSize(string text, string option)
    {
        string t = text.Trim().ToUpperInvariant();
        long factor = 1;
        if (t.Length > 0 && "KMGT".Contains(t[^1]))
        {
            factor = t[^1] switch { 'K' => 1_000L, 'M' => 1_000_000L, 'G' => 1_000_000_000L, _ => 1_000_000_000_000L };
            t = t[..^1];
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || !double.IsFinite(n) || n <= 0 || n * factor >= long.MaxValue)
            throw GgufOptimizeException.BadInput($"{option} '{text}' is not a size: give a number with an optional K, M, G or T suffix, e.g. 2G");
        return (long)Math.Ceiling(n * factor);
    }
}
