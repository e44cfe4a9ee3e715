using System.Text.Json;
using System.Text.Json.Serialization;
using GgufOptimize.Common;

namespace GgufOptimize.Recipes;

/// <summary>How sensitivity tables, measurements and recipes are stored (camelCase JSON, indented).</summary>
internal static class RecipeJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads a file written by <see cref="Write{T}"/>; a missing or unreadable file is bad input naming <paramref name="what"/>.</summary>
    public static T Read<T>(string path, string what)
    {
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"{what} '{path}' does not exist");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
                ?? throw GgufOptimizeException.BadInput($"{what} '{path}' is empty");
        }
        catch (JsonException e)
        {
            throw GgufOptimizeException.BadInput($"{what} '{path}' is not a valid {what} file ({e.Message})");
        }
    }
}
