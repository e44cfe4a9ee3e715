namespace GgufOptimize.Bench;

/// <summary>The real-model assets in ../shared (or $GGUF_OPTIMIZE_SHARED), if present.</summary>
public static class SharedFolder
{
    public static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("GGUF_OPTIMIZE_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "shared", "models", "aidreams260K-f32.gguf");
            if (File.Exists(candidate)) return Path.Combine(d.FullName, "shared");
        }
        return null;
    }
}
