namespace GgufOptimize.Bench;

/// <summary>Minimal `--key value` parsing for benchmarks (each documents its keys in its Description).</summary>
public sealed class BenchArgs(string[] args)
{
    public int Int(string key, int fallback) => Get(key) is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    public string? Get(string key)
    {
        int i = Array.IndexOf(args, "--" + key);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
