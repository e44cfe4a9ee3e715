using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Sources.HuggingFace;

/// <summary>
/// HTTP access to the datasets-server: the Parquet listing and file downloads, with retries and exponential backoff
/// for network errors, 5xx/429 answers and truncated bodies. A download lands in a unique temporary name and is
/// renamed into place only when complete, so the cache never holds a partial file.
/// </summary>
internal sealed class HfClient : IDisposable
{
    private readonly HfSettings _settings;
    private readonly Uri _endpoint;
    private readonly HttpClient _http;

    /// <summary>A real listing is a few KB per file; a larger answer comes from something that is not a datasets-server.</summary>
    internal const long MaxListingBytes = 16L << 20;

    public HfClient(HfSettings settings)
    {
        _settings = settings;
        if (!Uri.TryCreate(settings.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw GgufOptimizeException.BadInput($"--hf-endpoint '{settings.Endpoint}' is not an http(s) URL");
        if (settings.MaxAttempts < 1) throw GgufOptimizeException.BadInput("--hf-retries must be at least 1");
        _endpoint = endpoint;
        _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("gguf-optimize", "1"));
    }

    public string EndpointAuthority => _endpoint.Authority;

    public Task<IReadOnlyList<HfParquetFile>> ListParquetFilesAsync(string dataset, CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, "parquet?dataset=" + Uri.EscapeDataString(dataset));
        return WithRetriesAsync($"listing dataset '{dataset}' at {_settings.Endpoint}", async ct =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_settings.RequestTimeout);
            using var response = await SendAsync(uri, timeout.Token);
            ThrowForStatus(response, $"dataset '{dataset}'");
            using var json = new MemoryStream();
            await using (var body = await response.Content.ReadAsStreamAsync(timeout.Token))
                await CopyAsync(body, json, MaxListingBytes, $"the Parquet listing of '{dataset}'", timeout.Token);
            return ParseListing(json.GetBuffer().AsSpan(0, (int)json.Length), dataset);
        }, cancellationToken);
    }

    /// <summary>Downloads <paramref name="file"/> to <paramref name="destination"/> (replacing it) or throws; never leaves a partial file there.</summary>
    public Task DownloadAsync(HfParquetFile file, string destination, CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, file.Url);
        RemoveAbandonedPartials(destination);
        return WithRetriesAsync($"downloading {uri}", async ct =>
        {
            string temp = $"{destination}.partial-{Environment.ProcessId}-{Guid.NewGuid():N}";
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(_settings.RequestTimeout);
                using var response = await SendAsync(uri, timeout.Token);
                ThrowForStatus(response, $"file '{file.Filename}' of dataset '{file.Dataset}'");
                long? announced = response.Content.Headers.ContentLength;
                await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                await using (var body = await response.Content.ReadAsStreamAsync(ct))
                {
                    await CopyAsync(body, output, long.MaxValue, $"file '{file.Filename}'", ct);
                }
                long received = new FileInfo(temp).Length;
                if (announced is long a && received != a) throw new TruncatedDownloadException(received, a);
                if (file.Size > 0 && received != file.Size) throw new TruncatedDownloadException(received, file.Size);
                // A complete answer can still be no Parquet file (an error page served with 200): never cache it.
                if (await ParquetTextReader.ProblemWithAsync(temp, ct) is { } problem) throw new NotParquetException(problem);
                FileStep.Move(temp, destination, overwrite: true);
                return true;
            }
            finally
            {
                AtomicFile.TryDelete(temp);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Copies a response body, failing when the server sends nothing for <see cref="HfSettings.IdleTimeout"/> (a
    /// stalled body would otherwise hang forever: the request timeout covers only the headers) or sends more than
    /// <paramref name="limit"/> bytes.
    /// </summary>
    private async Task CopyAsync(Stream body, Stream destination, long limit, string what, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            idle.CancelAfter(_settings.IdleTimeout);
            int read;
            try
            {
                read = await body.ReadAsync(buffer, idle.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new StalledException(_settings.IdleTimeout, total);
            }
            if (read == 0) return;
            total += read;
            if (total > limit)
                throw GgufOptimizeException.Runtime($"{what} is larger than {Units.Bytes(limit)}; is --hf-endpoint a datasets-server?");
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri uri, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (_settings.Token is { } token && MayReceiveToken(uri))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    // The token is a credential: only the configured endpoint and Hugging Face itself get it (HttpClient drops it on redirects).
    private bool MayReceiveToken(Uri uri) =>
        uri.Authority == _endpoint.Authority || uri.Host == "huggingface.co" || uri.Host.EndsWith(".huggingface.co", StringComparison.Ordinal);

    private static void ThrowForStatus(HttpResponseMessage response, string what)
    {
        var status = response.StatusCode;
        if (response.IsSuccessStatusCode) return;
        if ((int)status >= 500 || status == HttpStatusCode.TooManyRequests || status == HttpStatusCode.RequestTimeout)
            throw new TransientStatusException(status);
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw GgufOptimizeException.BadInput($"access to {what} was refused (HTTP {(int)status}); set HF_TOKEN to a token that may read it");
        if (status == HttpStatusCode.NotFound)
            throw GgufOptimizeException.BadInput($"{what} was not found at {response.RequestMessage?.RequestUri} (HTTP 404)");
        throw GgufOptimizeException.Runtime($"{what}: the server answered HTTP {(int)status} {response.ReasonPhrase}");
    }

    private async Task<T> WithRetriesAsync<T>(string what, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (int i = 1; ; i++)
        {
            try
            {
                return await attempt(cancellationToken);
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (i >= _settings.MaxAttempts)
                    throw GgufOptimizeException.Runtime($"{what} failed after {i} attempt{(i == 1 ? "" : "s")}: {Explain(e)}", e);
                await Task.Delay(_settings.RetryDelay * Math.Pow(2, i - 1), cancellationToken);
            }
        }
    }

    private static bool IsTransient(Exception e) =>
        e is HttpRequestException or IOException or TransientStatusException or TruncatedDownloadException or TaskCanceledException or TimeoutException
            or StalledException or NotParquetException;

    private string Explain(Exception e) => e switch
    {
        HttpRequestException { InnerException: SocketException s } => $"cannot reach {_endpoint.Authority} ({s.Message})",
        HttpRequestException h => h.Message,
        TaskCanceledException => $"no answer within {_settings.RequestTimeout.TotalSeconds:0} s",
        _ => e.Message,
    };

    private static IReadOnlyList<HfParquetFile> ParseListing(ReadOnlySpan<byte> json, string dataset)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            if (!document.RootElement.TryGetProperty("parquet_files", out var files) || files.ValueKind != JsonValueKind.Array)
                throw GgufOptimizeException.Runtime($"the Parquet listing of '{dataset}' has no 'parquet_files' array");
            var result = new List<HfParquetFile>();
            foreach (var f in files.EnumerateArray())
            {
                string Get(string name) => f.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! :
                    throw GgufOptimizeException.Runtime($"an entry of the Parquet listing of '{dataset}' lacks '{name}'");
                long size = f.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : 0;
                result.Add(new HfParquetFile(f.TryGetProperty("dataset", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : dataset,
                    Get("config"), Get("split"), Get("url"), Get("filename"), size));
            }
            return result;
        }
        catch (JsonException e)
        {
            throw GgufOptimizeException.Runtime($"the Parquet listing of '{dataset}' is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Partial downloads of a killed process (its id is in the name) are removed; a live download is left alone.</summary>
    private static void RemoveAbandonedPartials(string destination)
    {
        string folder = Path.GetDirectoryName(destination)!;
        string prefix = Path.GetFileName(destination) + ".partial-";
        foreach (var partial in Directory.EnumerateFiles(folder, prefix + "*"))
        {
            string idText = Path.GetFileName(partial)[prefix.Length..].Split('-')[0];
            if (!int.TryParse(idText, out int id) || id == Environment.ProcessId || IsRunning(id)) continue;
            AtomicFile.TryDelete(partial);
        }
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }


    public void Dispose() => _http.Dispose();

    private sealed class TransientStatusException(HttpStatusCode status) : Exception($"the server answered HTTP {(int)status}");

    private sealed class TruncatedDownloadException(long received, long expected) : Exception($"truncated download ({received} of {expected} bytes)");

    private sealed class StalledException(TimeSpan idle, long received) : Exception($"the server sent nothing for {idle.TotalSeconds:0.#} s after {received} bytes of the body");

    private sealed class NotParquetException(string problem) : Exception($"the download is not a Parquet file ({problem})");
}
