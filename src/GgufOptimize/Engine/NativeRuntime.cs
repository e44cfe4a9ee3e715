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
    /// <summary>The llama.cpp commit LLamaSharp 0.30.0's native build (and our struct mirrors) come from.</summary>
    public const string PinnedCommit = "c0c7e147e7efa6c5858754b47259ba4880f8a906";

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
            OpenMpSpin.Apply();
            _callback = OnLog;
            NativeLibraryConfig.All.WithLogCallback(_callback);
            if (_userLibrary is { } user) NativeLibraryConfig.All.WithLibrary(user.Llama, null);
            NativeLibrary.SetDllImportResolver(typeof(NativeRuntime).Assembly, Resolve);
            NativeApi.llama_empty_call();
            NativeLogConfig.llama_log_set(_callback);
            _initialized = true;
        }
    }

    private static UserLibrary? _userLibrary;

    /// <summary>
    /// The folder of a llama.cpp built by the user (a GPU build at the pinned commit), or null for the bundled CPU
    /// build. Must be called before anything loads llama.cpp; the folder is checked at once (files present, each
    /// loads, every entry point we bind exists), and a failure is bad input naming the file and what is wrong.
    /// </summary>
    public static void UseLibraryFolder(string folder, string option)
    {
        lock (Gate)
        {
            if (_initialized || _userLibrary is not null)
                throw new InvalidOperationException("llama.cpp is already loaded; choose its folder before the first use");
            _userLibrary = UserLibrary.Load(folder, option);
        }
    }

    /// <summary>The folder given to <see cref="UseLibraryFolder"/>, or null when the bundled build is used.</summary>
    public static string? UserLibraryFolder => _userLibrary?.Folder;

    /// <summary>Whether the loaded llama.cpp has a GPU (or other offloading) backend: without one, GPU layers do nothing.</summary>
    public static bool SupportsGpuOffload
    {
        get
        {
            Initialize();
            return NativeApi.llama_supports_gpu_offload();
        }
    }

    private static readonly Lazy<string> Library = new(() =>
    {
        // LLamaSharp picks a CPU-feature build (noavx/avx/avx2/avx512); each may round differently, so its bytes count.
        string? path = _userLibrary?.Llama ?? FindLoaded("libllama.so");
        if (path is null) return "libllama.so (not found in the process map)";
        using var stream = File.OpenRead(path);
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        // A user's own build is named by its full folder, so a result says which GPU build made it.
        string folder = _userLibrary?.Folder ?? System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(path)) ?? "";
        return $"{folder}/libllama.so sha256 {hash[..16]}";
    });

    /// <summary>Full path of the libllama file doing the work (the bundled CPU-feature build or the --llama-lib one).</summary>
    public static string LibraryPath
    {
        get
        {
            Initialize();
            return _userLibrary?.Llama ?? FindLoaded("libllama.so") ?? "libllama.so";
        }
    }

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
        if (_userLibrary is { } user) return user.Handle(file);
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
