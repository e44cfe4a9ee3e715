using System.Text.Json;

namespace GgufOptimize.Cli.Infrastructure;

internal static class JsonOutput
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true };
}
