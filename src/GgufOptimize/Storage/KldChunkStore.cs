using System.Text;
using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage;

/// <summary>
/// The resumable state of a comparison: <c>OUTPUT.parts/</c> holds a manifest naming the inputs and one file per
/// finished chunk, each written under a temporary name and renamed, so a chunk is either wholly there or absent.
/// </summary>
internal sealed class KldChunkStore
{
    private const uint Magic = 0x324C4443; // "CDL2": per-token values in double (version 1 held float32)
    private readonly string _dir;

    public string Directory => _dir;

    private KldChunkStore(string dir) => _dir = dir;

    public static string PartsDirectory(string outputPath) => outputPath + ".parts";

    /// <summary>Opens the store for <paramref name="inputs"/>; one made for other inputs is refused or, with clobber, replaced.</summary>
    public static KldChunkStore Open(string outputPath, ComparisonInputs inputs, bool clobber, IProgressSink progress)
    {
        var identity = inputs.ToAttributes().ToDictionary();
        string dir = PartsDirectory(outputPath);
        string manifest = Path.Combine(dir, "manifest.json");
        if (System.IO.Directory.Exists(dir))
        {
            string? why = null;
            try
            {
                var existing = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(manifest)) ?? [];
                foreach (var (k, v) in identity)
                    if (!existing.TryGetValue(k, out var old) || old != v) { why = $"{k} was '{(old ?? "missing")}', now '{v}'"; break; }
            }
            catch (Exception e) when (e is IOException or JsonException) { why = "its manifest is unreadable"; }
            if (why is null) return new KldChunkStore(dir);
            // The manifest is written right after the folder is made and chunks only after it, so a folder without
            // one is a run killed in between (or a store half deleted): it holds nothing to keep.
            if (File.Exists(manifest))
            {
                if (!clobber)
                    throw GgufOptimizeException.BadInput($"unfinished comparison '{dir}' was made from other inputs ({why}); use --overwrite to start over");
                progress.Warn($"discarding '{dir}' ({why})");
            }
            FileStep.DeleteDirectory(dir);
        }
        FileStep.CreateDirectory(dir);
        AtomicFile.WriteAllText(manifest, JsonSerializer.Serialize(identity));
        return new KldChunkStore(dir);
    }

    /// <summary>
    /// Removes the store. The manifest goes first, so a kill halfway leaves a folder that the next run recognises
    /// as holding nothing (see <see cref="Open"/>).
    /// </summary>
    public void Delete()
    {
        FileStep.Delete(Path.Combine(_dir, "manifest.json"));
        FileStep.DeleteDirectory(_dir);
    }

    private string ChunkPath(int chunk) => Path.Combine(_dir, $"chunk_{chunk:D6}.bin");

    public ChunkResult? TryLoad(int chunk)
    {
        string path = ChunkPath(chunk);
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (reader.ReadUInt32() != Magic || reader.ReadInt32() != chunk) return null;
            int n = reader.ReadInt32(), nonFinite = reader.ReadInt32(), floored = reader.ReadInt32();
            // A saved chunk that does not add up is recomputed, never trusted (33 bytes per token follow the header).
            if (n < 0 || (long)n * 33 > reader.BaseStream.Length || nonFinite < 0 || floored < 0 || floored > n) return null;
            double[] Doubles() { var a = new double[n]; reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); return a; }
            var kld = Doubles(); var dp = Doubles(); var lpb = Doubles(); var lpt = Doubles();
            var same = new bool[n];
            var bytes = reader.ReadBytes(n);
            if (bytes.Length != n) return null;
            for (int i = 0; i < n; i++) same[i] = bytes[i] != 0;
            if (!kld.All(double.IsFinite) || !dp.All(double.IsFinite)) return null;
            return new ChunkResult(chunk, kld, dp, same, lpb, lpt, nonFinite, floored);
        }
        catch (EndOfStreamException) { return null; }
    }

    public void Save(ChunkResult result)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(result.ChunkIndex);
            w.Write(result.Count);
            w.Write(result.NonFiniteRows);
            w.Write(result.FlooredNextTokens);
            foreach (var a in new[] { result.Kld, result.DeltaP, result.LogProbBase, result.LogProbTarget })
                w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
            foreach (var b in result.SameTop) w.Write((byte)(b ? 1 : 0));
        }
        AtomicFile.WriteAllBytes(ChunkPath(result.ChunkIndex), ms.ToArray());
    }
}
