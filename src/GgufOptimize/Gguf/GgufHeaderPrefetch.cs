namespace GgufOptimize.Gguf;

/// <summary>
/// Reads and checks a model's header (<see cref="GgufModelValidation.ReadChecked"/>) on a side task started as soon as
/// the model's path is known, so that it overlaps the loading of llama.cpp's libraries on the other core instead of
/// following it (30–40 ms on a 32k-vocabulary model, BENCHMARKS.md). The next <see cref="GgufModelValidation.ReadChecked"/>
/// of the same path waits for it and hands back its result — or throws its error, as the direct read would have —
/// unless the file's size or modification time changed since it started; then it reads the file again. Nothing of
/// llama.cpp sees the file before that call returns, so the checks still come first.
/// </summary>
internal static class GgufHeaderPrefetch
{
    private sealed record Pending(string Path, long Length, DateTime Modified, Task<GgufFile> Read);

    private static Pending? _pending;

    /// <summary>Starts reading <paramref name="path"/>; does nothing when it is not an existing file (the direct read reports that).</summary>
    public static void Start(string path)
    {
        var stamp = Stamp(path);
        if (stamp is not { } s) return;
        Interlocked.Exchange(ref _pending, new Pending(path, s.Length, s.Modified, Task.Run(() => GgufModelValidation.ReadCheckedNow(path))));
    }

    /// <summary>
    /// The prefetched header of <paramref name="path"/> (once: it is then forgotten), or null when none was started for
    /// it or the file changed since; a failed read throws its error here.
    /// </summary>
    public static GgufFile? Take(string path)
    {
        var pending = Volatile.Read(ref _pending);
        if (pending is null || pending.Path != path) return null;
        Interlocked.CompareExchange(ref _pending, null, pending);
        if (Stamp(path) != (pending.Length, pending.Modified))
        {
            // The result is not used; the task is still waited for so that no read of the file outlives the call.
            try { pending.Read.Wait(); } catch (AggregateException) { }
            return null;
        }
        return pending.Read.GetAwaiter().GetResult();
    }

    private static (long Length, DateTime Modified)? Stamp(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? (info.Length, info.LastWriteTimeUtc) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException) { return null; }
    }
}
