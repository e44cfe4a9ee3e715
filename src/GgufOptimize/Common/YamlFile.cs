using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace GgufOptimize.Common;

/// <summary>Reads the small YAML files users write (plans, quantization lists), refusing hostile ones.</summary>
internal static class YamlFile
{
    /// <summary>
    /// Deeper nesting than any plan needs. YamlDotNet builds its node tree recursively, so a file of 100 KB of '['
    /// would overflow the stack and kill the process; the depth is measured first on the flat event stream.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>The file's YAML stream; <paramref name="what"/> ("plan file") names it in errors.</summary>
    public static YamlStream Load(string path, string what)
    {
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"{what} '{path}' does not exist");
        try
        {
            CheckDepth(path, what);
            var yaml = new YamlStream();
            using var reader = new StreamReader(path);
            yaml.Load(reader);
            return yaml;
        }
        catch (YamlException e)
        {
            throw GgufOptimizeException.BadInput($"{what} '{path}' is not valid YAML: {e.Message}");
        }
    }

    private static void CheckDepth(string path, string what)
    {
        using var reader = new StreamReader(path);
        var parser = new Parser(reader);
        int depth = 0;
        while (parser.MoveNext())
        {
            if (parser.Current is SequenceStart or MappingStart && ++depth > MaxDepth)
                throw GgufOptimizeException.BadInput($"{what} '{path}' nests collections deeper than {MaxDepth} levels (near {parser.Current.Start})");
            if (parser.Current is SequenceEnd or MappingEnd) depth--;
        }
    }
}
