using System.Reflection;
using System.Runtime.InteropServices;
using LLama.Native;

namespace GgufOptimize.Engine;

/// <summary>
/// Loads llama.cpp (through LLamaSharp's library selection) once per process, routes its log output,
/// and lets our own DllImports of <c>llama</c> and <c>ggml-base</c> bind to the very same native files.
/// </summary>
internal static class NativeRuntime
{
    internal const string LlamaLibrary = "llama";
    internal const string GgmlBaseLibrary = "ggml-base";

    private static readonly object Gate = new();
    private static bool _initialized;
    private static volatile Action<string>? _logSink;
    private static NativeLogConfig.LLamaLogCallback? _callback; // kept alive: native code holds it

    /// <summary>Native log lines at warning level and above, kept so a failure can be explained.</summary>
    private static readonly Queue<string> RecentErrors = new();

    /// <summary>
    /// Where llama.cpp's own log text goes; null (the default) keeps it to <see cref="LastNativeError"/>. The library
    /// never writes to the console: the CLI passes stderr here for --verbose.
    /// </summary>
    public static Action<string>? LogSink { get => _logSink; set => _logSink = value; }

    /// <summary>Per thread: llama.cpp logs on the calling thread, so a listener sees only its own call's output.</summary>
    [ThreadStatic] private static Action<LLamaLogLevel, string>? _threadListener;

    /// <summary>Also hands this thread's native log text to <paramref name="listener"/> until the result is disposed.</summary>
    internal static IDisposable ListenOnThisThread(Action<LLamaLogLevel, string> listener)
    {
        var previous = _threadListener;
        _threadListener = listener;
        return new ListenerScope(previous);
    }

    private sealed class ListenerScope(Action<LLamaLogLevel, string>? previous) : IDisposable
    {
        public void Dispose() => _threadListener = previous;
    }

    /// <summary>Idempotent; also sets <see cref="LogSink"/>.</summary>
    public static void Initialize(Action<string>? logSink)
    {
        _logSink = logSink;
        Initialize();
    }

    /// <summary>Idempotent; the log sink stays as it is.</summary>
    public static void Initialize()
    {
        lock (Gate)
        {
            if (_initialized) return;
            _callback = OnLog;
            NativeLibraryConfig.All.WithLogCallback(_callback);
            NativeLibrary.SetDllImportResolver(typeof(NativeRuntime).Assembly, Resolve);
            NativeApi.llama_empty_call();
            NativeLogConfig.llama_log_set(_callback);
            _initialized = true;
        }
    }

    private static readonly Lazy<string> Library = new(() =>
    {
        // LLamaSharp picks a CPU-feature build (noavx/avx/avx2/avx512); each may round differently, so its bytes count.
        string? path = FindLoaded("libllama.so");
        if (path is null) return "libllama.so (not found in the process map)";
        using var stream = File.OpenRead(path);
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        string folder = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(path)) ?? "";
        return $"{folder}/libllama.so sha256 {hash[..16]}";
    });

    /// <summary>Which native llama.cpp build does the work (CPU-feature folder and file hash); call after <see cref="Initialize()"/>.</summary>
    public static string LibraryIdentity => Library.Value;

    /// <summary>The last native error/warning lines, for error messages when a native call fails.</summary>
    public static string LastNativeError()
    {
        lock (RecentErrors) return string.Join(" | ", RecentErrors);
    }

    internal static void ClearNativeErrors()
    {
        lock (RecentErrors) RecentErrors.Clear();
    }

    private static void OnLog(LLamaLogLevel level, string message)
    {
        _threadListener?.Invoke(level, message);
        if (level is LLamaLogLevel.Error or LLamaLogLevel.Warning)
        {
            lock (RecentErrors)
            {
                RecentErrors.Enqueue(message.Trim());
                while (RecentErrors.Count > 4) RecentErrors.Dequeue();
            }
        }
        _logSink?.Invoke(message);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        string file = name switch
        {
            LlamaLibrary => "libllama.so",
            GgmlBaseLibrary => "libggml-base.so",
            _ => "",
        };
        if (file.Length == 0) return IntPtr.Zero;
        string? loaded = FindLoaded(file);
        if (loaded is not null && NativeLibrary.TryLoad(loaded, out var handle)) return handle;
        return IntPtr.Zero;
    }

    /// <summary>LLamaSharp picks a CPU-feature-specific folder; the process map tells which file it loaded.</summary>
    private static string? FindLoaded(string fileName)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0) continue;
                string p = line[slash..];
                if (p.EndsWith("/" + fileName, StringComparison.Ordinal)) return p;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
