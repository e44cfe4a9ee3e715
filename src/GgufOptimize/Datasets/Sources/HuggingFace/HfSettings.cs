namespace GgufOptimize.Datasets.Sources.HuggingFace;

/// <summary>How to reach a Hugging Face dataset through the datasets-server Parquet export.</summary>
internal sealed record HfSettings
{
    public const string DefaultEndpoint = "https://datasets-server.huggingface.co";

    /// <summary>Base URL of the datasets-server API; <c>{Endpoint}/parquet?dataset=NAME</c> lists the files.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;
    /// <summary>Dataset config; <c>{lang}</c> in it makes one config per requested language (e.g. <c>unshuffled_deduplicated_{lang}</c>).</summary>
    public string? Config { get; init; }
    public string Split { get; init; } = "train";
    /// <summary>Downloaded Parquet files are kept here and reused when their size matches the listing.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory();
    /// <summary>Bearer token (from HF_TOKEN by default); sent only to the endpoint's host and to huggingface.co hosts.</summary>
    public string? Token { get; init; } = Environment.GetEnvironmentVariable("HF_TOKEN") is { Length: > 0 } t ? t : null;
    public int MaxAttempts { get; init; } = 4;
    /// <summary>Delay before the second attempt; it doubles for each further one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Limit for the listing request and for receiving a download's response headers.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Longest silence allowed while a response body is received; longer counts as a failed attempt.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static string DefaultCacheDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "gguf-optimize", "hf");
    }
}
