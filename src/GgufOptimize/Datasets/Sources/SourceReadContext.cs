namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// What a source needs while reading: where to count problems, the bad-UTF-8 policy, the per-sample size limit,
/// and which languages are still wanted (a hint that lets per-language files or configs be skipped, not a filter
/// sources must apply).
/// </summary>
public sealed class SourceReadContext
{
    public const int DefaultMaxSampleBytes = 8 << 20;
    private readonly Func<string, bool> _wantsLanguage;

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

    public SourceDiagnostics Diagnostics { get; }
    public InvalidUtf8Policy InvalidUtf8 { get; }
    /// <summary>A record longer than this many bytes is skipped and counted as oversized; this bounds memory per sample.</summary>
    public int MaxSampleBytes { get; }
    /// <summary>The requested languages, or null when every sample is wanted regardless of language.</summary>
    public IReadOnlyList<string>? Languages { get; }

    /// <summary>False once the selection can no longer use samples of <paramref name="language"/>.</summary>
    public bool WantsLanguage(string language) => _wantsLanguage(language);
}
