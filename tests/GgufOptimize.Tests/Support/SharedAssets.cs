namespace GgufOptimize.Tests.Support;

/// <summary>
/// The real trained model and text in ../shared (next to the repository). Tests that need them call
/// <see cref="RequireModel"/>, which skips with a message when the folder is absent.
/// </summary>
public static class SharedAssets
{
    private static readonly Lazy<string?> Root = new(FindRoot);

    public static string? SharedRoot => Root.Value;

    public static string AidreamsModel => Path.Combine(RequireRoot(), "models", "aidreams260K-f32.gguf");
    public static string AidreamsText => Path.Combine(RequireRoot(), "data", "aidreams-samples.txt");
    public static string TinyRandomLlama2 => Path.Combine(RequireRoot(), "models", "llama-2-tiny-random.gguf");

    public static string RequireRoot()
    {
        Skip.If(SharedRoot is null, "needs ../shared (or GGUF_OPTIMIZE_SHARED) with models/aidreams260K-f32.gguf, which is absent here; CI has it");
        return SharedRoot!;
    }

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("GGUF_OPTIMIZE_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GgufOptimize.slnx")))
            {
                var shared = Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared");
                return File.Exists(Path.Combine(shared, "models", "aidreams260K-f32.gguf")) ? shared : null;
            }
        }
        return null;
    }
}
