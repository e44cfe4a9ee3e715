using System.Reflection;
using System.Runtime.InteropServices;
using GgufOptimize.Common;

namespace GgufOptimize.Engine;

/// <summary>
/// A llama.cpp the user built as shared libraries (--llama-lib): every ggml library of the folder is loaded by full
/// path in dependency order (ggml-base, the backends, ggml, llama), so the dynamic linker binds them to each other
/// and not to the bundled CPU build, and LLamaSharp and our own DllImports then share these very files.
/// </summary>
internal sealed class UserLibrary
{
    public string Folder { get; }
    /// <summary>Full path of the llama library.</summary>
    public string Llama { get; }
    private readonly Dictionary<string, IntPtr> _handles;

    private UserLibrary(string folder, string llama, Dictionary<string, IntPtr> handles)
    {
        Folder = folder;
        Llama = llama;
        _handles = handles;
    }

    /// <summary>The handle of an already loaded file of the folder, by its file name (libllama.so, libggml-base.so).</summary>
    public IntPtr Handle(string fileName) => _handles.GetValueOrDefault(FileName(StemOf(fileName)));

    public static UserLibrary Load(string folder, string option)
    {
        if (!Directory.Exists(folder)) throw GgufOptimizeException.BadInput($"{option} '{folder}': no such folder (give the folder that holds {FileName("llama")}, e.g. llama.cpp/build/bin)");
        folder = Path.GetFullPath(folder);
        string[] required = ["ggml-base", "ggml", "llama"];
        foreach (var stem in required)
        {
            string path = Path.Combine(folder, FileName(stem));
            if (!File.Exists(path))
                throw GgufOptimizeException.BadInput($"{option} '{folder}': {FileName(stem)} is missing (a llama.cpp built with -DBUILD_SHARED_LIBS=ON puts {string.Join(", ", required.Select(FileName))} in build/bin; see docs/gpu.md)");
        }
        // Backends (ggml-cpu, ggml-cuda, ggml-vulkan, ggml-hip, ggml-metal, ...) depend on ggml-base only; ggml links them.
        var backends = Directory.EnumerateFiles(folder, FileName("ggml-*"))
            .Select(p => Path.GetFileName(p))
            .Where(f => f != FileName("ggml-base"))
            .Order(StringComparer.Ordinal)
            .Select(StemOf);
        var handles = new Dictionary<string, IntPtr>();
        foreach (var stem in backends.Prepend("ggml-base").Append("ggml").Append("llama"))
        {
            string file = FileName(stem), path = Path.Combine(folder, file);
            try
            {
                handles[file] = NativeLibrary.Load(path);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw GgufOptimizeException.BadInput($"{option} '{folder}': {file} does not load: {FirstLine(e.Message)}");
            }
        }
        var library = new UserLibrary(folder, Path.Combine(folder, FileName("llama")), handles);
        library.CheckEntryPoints(option);
        library.CheckParamsLayout(option);
        return library;
    }

    /// <summary>
    /// Every function LLamaSharp and this assembly bind in llama/ggml must exist: a build of another commit may lack
    /// one, and a missing export would otherwise fail only when that call is first made, mid-run.
    /// </summary>
    private void CheckEntryPoints(string option)
    {
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (library, entry) in BoundEntryPoints())
        {
            bool found = library == "llama"
                ? NativeLibrary.TryGetExport(_handles[FileName("llama")], entry, out _)
                : _handles.Values.Any(h => NativeLibrary.TryGetExport(h, entry, out _));
            if (!found && !NotInPinnedBuild.Contains(entry)) missing.Add(entry);
        }
        if (missing.Count > 0)
            throw GgufOptimizeException.BadInput($"{option} '{Folder}': {FileName("llama")}/{FileName("ggml")} lack {missing.Count} function(s) this tool calls " +
                $"({string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}): build llama.cpp at the pinned commit {NativeRuntime.PinnedCommit[..8]} (docs/gpu.md)");
    }

    /// <summary>
    /// The model and context parameter structs are passed by value, laid out as at the pinned commit: a build of
    /// another commit with other fields would be handed garbage without any error. On x86-64 the default-params
    /// functions return through a hidden buffer, so they are called on a marked buffer: nothing may be written past
    /// the declared size, and fields near the end must hold llama.cpp's known defaults at their declared offsets.
    /// </summary>
    private unsafe void CheckParamsLayout(string option)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        var llama = _handles[FileName("llama")];
        void Check<T>(string function, Func<IntPtr, string?> wrongField) where T : struct
        {
            const int probe = 1024;
            int size = Marshal.SizeOf<T>();
            byte* buffer = stackalloc byte[probe];
            new Span<byte>(buffer, probe).Fill(0xCD);
            ((delegate* unmanaged[Cdecl]<byte*, void>)NativeLibrary.GetExport(llama, function))(buffer);
            string? wrong = new ReadOnlySpan<byte>(buffer + size, probe - size).ContainsAnyExcept((byte)0xCD)
                ? $"it writes more than the {size} bytes declared"
                : wrongField((IntPtr)buffer);
            if (wrong is not null)
                throw GgufOptimizeException.BadInput($"{option} '{Folder}': {FileName("llama")} has another {function.Replace("_default_params", "_params")} layout than commit {NativeRuntime.PinnedCommit[..8]} ({wrong}): build the pinned commit (docs/gpu.md)");
        }
        int At<T>(IntPtr p, string field) where T : struct => Marshal.ReadInt32(p, (int)Marshal.OffsetOf<T>(field));
        Check<LLama.Native.LLamaContextParams>("llama_context_default_params", p =>
            At<LLama.Native.LLamaContextParams>(p, "type_k") != 1 || At<LLama.Native.LLamaContextParams>(p, "type_v") != 1 ? "type_k/type_v are not f16 where expected"
            : At<LLama.Native.LLamaContextParams>(p, "llama_flash_attn_type") != -1 ? "flash_attn_type is not auto where expected" : null);
        Check<LLama.Native.LLamaModelParams>("llama_model_default_params", p =>
            At<LLama.Native.LLamaModelParams>(p, "split_mode") != 1 ? "split_mode is not layer where expected"
            : At<LLama.Native.LLamaModelParams>(p, "main_gpu") != 0 ? "main_gpu is not 0 where expected" : null);
    }

    /// <summary>
    /// Functions LLamaSharp 0.30.0 declares that its own native build (the pinned commit) does not export either: stale
    /// declarations it never calls. A test checks the bundled build passes with exactly this exception list.
    /// </summary>
    internal static readonly HashSet<string> NotInPinnedBuild =
        ["llama_adapter_meta_val_by_index", "llama_model_apply_lora_from_file", "llama_print_timings"];

    /// <summary>The (library, entry point) pairs declared with [DllImport] in LLamaSharp and in this assembly.</summary>
    internal static IEnumerable<(string Library, string Entry)> BoundEntryPoints()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var assembly in new[] { typeof(LLama.Native.NativeApi).Assembly, typeof(UserLibrary).Assembly })
        {
            Type?[] types;
            try { types = assembly.GetTypes(); }
            catch (ReflectionTypeLoadException e) { types = e.Types; }
            foreach (var type in types.OfType<Type>())
                foreach (var method in type.GetMethods(all))
                {
                    if (method.GetCustomAttribute<DllImportAttribute>() is not { } import) continue;
                    if (import.Value is not ("llama" or "ggml" or "ggml-base")) continue;
                    yield return (import.Value, import.EntryPoint ?? method.Name);
                }
        }
    }

    private static string FileName(string stem) =>
        OperatingSystem.IsWindows() ? stem + ".dll" : OperatingSystem.IsMacOS() ? "lib" + stem + ".dylib" : "lib" + stem + ".so";

    private static string StemOf(string fileName)
    {
        string name = Path.GetFileNameWithoutExtension(fileName);
        return name.StartsWith("lib", StringComparison.Ordinal) ? name[3..] : name;
    }

    private static string FirstLine(string message) =>
        message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? message;
}
