using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace GgufOptimize.Chunking;

/// <summary>
/// Remembers a model file's SHA-256 across runs, keyed by its full path, size and modification time, so a 15 GB model
/// is hashed once rather than at the start of every <c>logits</c>, <c>kld</c>, <c>imatrix</c> and <c>quantize</c>.
/// <para>
/// Where: the user's cache folder (<c>$XDG_CACHE_HOME/gguf-optimize/model-identity</c>, else
/// <c>~/.cache/gguf-optimize/model-identity</c>; <c>GGUF_OPTIMIZE_CACHE_DIR</c> overrides it, <c>off</c> disables it),
/// not the output folder: one model is read by many commands writing to many folders, and a cache there would be
/// copied along with results. Only files of at least <see cref="DefaultMinimumBytes"/> are remembered; smaller ones
/// hash faster than the entry is worth.
/// </para>
/// <para>
/// Safety: one entry file per model path, replaced by an atomic rename, so concurrent processes read either the old
/// or the new entry, never half of one. An entry names every file's path, size and modification time and ends with a
/// checksum of its own text; anything that does not match exactly (another size or time, a truncated or edited entry)
/// is ignored and the file hashed again. A file modified within <see cref="RacyWindow"/> of being hashed is not
/// remembered: a second write in the same clock tick, with the same size, would leave its time unchanged.
/// </para>
/// </summary>
internal sealed class ModelIdentityCache
{
    public const long DefaultMinimumBytes = 64L << 20;
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);
    private const string Magic = "gguf-optimize model identity v1";

    /// <summary>Null: remember nothing on disk.</summary>
    public string? Directory { get; }
    public long MinimumBytes { get; }

    public ModelIdentityCache(string? directory, long minimumBytes = DefaultMinimumBytes)
    {
        Directory = directory;
        MinimumBytes = minimumBytes;
    }

    public static ModelIdentityCache Default { get; } = new(DefaultDirectory());

    private static string? DefaultDirectory()
    {
        string? over = Environment.GetEnvironmentVariable("GGUF_OPTIMIZE_CACHE_DIR");
        if (over is not null) return over.Trim() is "" or "off" or "0" ? null : Path.Combine(over, "model-identity");
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return string.IsNullOrEmpty(root) ? null : Path.Combine(root, "gguf-optimize", "model-identity");
    }

    /// <summary>The stamp of <paramref name="files"/> as an entry states it: one "path, size, time" line per file.</summary>
    public static string Stamp(IReadOnlyList<FileInfo> files)
    {
        var sb = new StringBuilder();
        foreach (var f in files)
            sb.Append(CultureInfo.InvariantCulture, $"{f.FullName}\t{f.Length}\t{f.LastWriteTimeUtc.Ticks}\n");
        return sb.ToString();
    }

    private bool Applies(IReadOnlyList<FileInfo> files) => Directory is not null && files.Sum(f => f.Length) >= MinimumBytes;

    private string EntryPath(IReadOnlyList<FileInfo> files) =>
        Path.Combine(Directory!, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", files.Select(f => f.FullName)))))[..32] + ".id");

    /// <summary>The remembered SHA-256 of exactly these files as they are now, or null.</summary>
    public string? TryGet(IReadOnlyList<FileInfo> files)
    {
        if (!Applies(files)) return null;
        string text;
        try { text = File.ReadAllText(EntryPath(files), Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        return Parse(text, Stamp(files));
    }

    /// <summary>The hash an entry's text records for <paramref name="stamp"/>, or null when it is for anything else or damaged.</summary>
    internal static string? Parse(string text, string stamp)
    {
        int checkAt = text.LastIndexOf("check ", StringComparison.Ordinal);
        if (checkAt < 0) return null;
        string body = text[..checkAt];
        if (text[checkAt..].TrimEnd('\n') != "check " + Checksum(body)) return null;
        string expectedStart = Magic + "\n" + stamp + "sha256 ";
        if (!body.StartsWith(expectedStart, StringComparison.Ordinal)) return null;
        string sha = body[expectedStart.Length..].TrimEnd('\n');
        return sha.Length == 64 && sha.All(char.IsAsciiHexDigitLower) ? sha : null;
    }

    /// <summary>Remembers <paramref name="sha256"/> for the files as they were when hashing started; best effort.</summary>
    public void Put(IReadOnlyList<FileInfo> files, string stampBeforeHashing, string sha256)
    {
        if (!Applies(files)) return;
        // The files must not have changed while they were hashed, nor be so fresh that a same-size rewrite could keep their time.
        foreach (var f in files) f.Refresh();
        if (Stamp(files) != stampBeforeHashing) return;
        if (files.Any(f => DateTime.UtcNow - f.LastWriteTimeUtc < RacyWindow)) return;
        string body = Magic + "\n" + stampBeforeHashing + "sha256 " + sha256 + "\n";
        string text = body + "check " + Checksum(body) + "\n";
        string path = EntryPath(files);
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory!);
            File.WriteAllText(temp, text, new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written only means hashing again next time.
            try { File.Delete(temp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
        }
    }

    private static string Checksum(string body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..16];
}
