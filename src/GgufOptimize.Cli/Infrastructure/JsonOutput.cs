using System.Text.Json;
using System.Text.Json.Serialization;

namespace GgufOptimize.Cli.Infrastructure;

internal static class JsonOutput
{
    /// <summary>Property names as the library declares them (the statistics keep the Python tool's names).</summary>
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>camelCase fields, absent values omitted: the shape of inspect, quantize and imatrix results.</summary>
    public static readonly JsonSerializerOptions CamelCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
