namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// What a source needs while reading: where to count problems, the bad-UTF-8 policy, the per-sample size limit,
/// and which languages are still wanted (a hint that lets per-language files or configs be skipped, not a filter
/// sources must apply).
/// </summary>
public sealed class SourceReadContext
{
    /// <summary>The per-sample limit when none is given: 8 MiB of UTF-8.</summary>
    public const int DefaultMaxSampleBytes = 8 << 20;
    private readonly Func<string, bool> _wantsLanguage;

    /// <summary>Creates the context for one read of one source.</summary>
    /// <param name="diagnostics">Receives the counts; the caller reads it after the enumeration ends.</param>
    /// <param name="invalidUtf8">Whether records with invalid UTF-8 are repaired or dropped.</param>
    /// <param name="maxSampleBytes">Longest record kept, in bytes of UTF-8; at least 16.</param>
    /// <param name="languages">The requested language codes, or null for all.</param>
    /// <param name="wantsLanguage">Answers <see cref="WantsLanguage"/>; null means every language is still wanted.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSampleBytes"/> is below 16.</exception>
    public SourceReadContext(SourceDiagnostics diagnostics, InvalidUtf8Policy invalidUtf8 = InvalidUtf8Policy.Replace,
        int maxSampleBytes = DefaultMaxSampleBytes, IReadOnlyList<string>? languages = null, Func<string, bool>? wantsLanguage = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSampleBytes, 16);
        Diagnostics = diagnostics;
        InvalidUtf8 = invalidUtf8;
        MaxSampleBytes = maxSampleBytes;
        Languages = languages;
        _wantsLanguage = wantsLanguage ?? (_ => true);
    }

    /// <summary>Where the source counts what it skipped or repaired; written only by the reading thread.</summary>
    public SourceDiagnostics Diagnostics { get; }
    /// <summary>What to do with a record whose bytes are not valid UTF-8; either way the record is counted.</summary>
    public InvalidUtf8Policy InvalidUtf8 { get; }
    /// <summary>A record longer than this many bytes is skipped and counted as oversized; this bounds memory per sample.</summary>
    public int MaxSampleBytes { get; }
    /// <summary>The requested languages, or null when every sample is wanted regardless of language.</summary>
    public IReadOnlyList<string>? Languages { get; }

    /// <summary>False once the selection can no longer use samples of <paramref name="language"/>.</summary>
    public bool WantsLanguage(string language) => _wantsLanguage(language);
}
