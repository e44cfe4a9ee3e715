using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace GgufOptimize.Tests.Datasets;

internal sealed record LoopbackRequest(string Path, string Query, string? Authorization);

/// <summary>
/// What the server answers. <see cref="DeclaredLength"/> larger than the body makes a truncated response:
/// the headers promise more bytes than are sent before the connection closes.
/// </summary>
/// <see cref="StallAfter"/> sends that many body bytes and then nothing more while holding the connection open;
/// <see cref="Endless"/> repeats the body until the client hangs up (at most 1 GiB, so the loop always ends).
internal sealed record LoopbackResponse(int Status, byte[] Body, string ContentType = "application/octet-stream", long? DeclaredLength = null,
    int? StallAfter = null, bool Endless = false)
{
    public static LoopbackResponse Json(string json) => new(200, Encoding.UTF8.GetBytes(json), "application/json");
    public static LoopbackResponse Error(int status) => new(status, Encoding.UTF8.GetBytes($"error {status}"), "text/plain");
}

/// <summary>A minimal HTTP/1.1 server on 127.0.0.1 with an ephemeral port: one request per connection.</summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LoopbackHttpServer(Func<LoopbackRequest, LoopbackResponse> handler)
    {
        Handler = handler;
        _listener.Start();
        _loop = AcceptLoop();
    }

    public Func<LoopbackRequest, LoopbackResponse> Handler { get; set; }
    public ConcurrentQueue<LoopbackRequest> Requests { get; } = new();
    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = new StringBuilder();
                var buffer = new byte[1];
                while (!head.ToString().EndsWith("\r\n\r\n"))
                {
                    if (await stream.ReadAsync(buffer) == 0) return;
                    head.Append((char)buffer[0]);
                }
                var lines = head.ToString().Split("\r\n");
                string target = lines[0].Split(' ')[1];
                string? auth = lines.Skip(1).FirstOrDefault(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase))?[14..].Trim();
                int q = target.IndexOf('?');
                var request = new LoopbackRequest(q < 0 ? target : target[..q], q < 0 ? "" : target[(q + 1)..], auth);
                Requests.Enqueue(request);
                var response = Handler(request);
                string header = $"HTTP/1.1 {response.Status} {(HttpStatusCode)response.Status}\r\nContent-Type: {response.ContentType}\r\n" +
                                $"Content-Length: {response.DeclaredLength ?? response.Body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(header));
                if (response.StallAfter is int sent)
                {
                    await stream.WriteAsync(response.Body.AsMemory(0, sent));
                    await stream.FlushAsync();
                    await Task.Delay(TimeSpan.FromMinutes(2), _stop.Token);
                    return;
                }
                for (long total = 0; ; total += response.Body.Length)
                {
                    await stream.WriteAsync(response.Body);
                    if (!response.Endless || total > (1L << 30)) break;
                }
                await stream.FlushAsync();
            }
            catch (IOException) { }
            catch (OperationCanceledException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
    }
}
