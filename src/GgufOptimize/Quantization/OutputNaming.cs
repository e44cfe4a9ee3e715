using System.Text.RegularExpressions;
using GgufOptimize.Common;

namespace GgufOptimize.Quantization;

/// <summary>Output file names: <c>&lt;name&gt;-&lt;TYPE&gt;[-imat-&lt;tag&gt;].gguf</c>.</summary>
internal static partial class OutputNaming
{
    /// <summary>The model file name without extension and without a trailing precision marker (-f32, -f16, -bf16).</summary>
    public static string DefaultName(string modelPath)
    {
        string stem = Path.GetFileNameWithoutExtension(modelPath);
        string trimmed = PrecisionSuffix().Replace(stem, "");
        return trimmed.Length > 0 ? trimmed : stem;
    }

    public static string DefaultTag(string imatrixPath) => Path.GetFileNameWithoutExtension(imatrixPath);

    public static string FileName(string name, QuantizationType type, string? imatrixTag)
    {
        Check(name, "--name");
        if (imatrixTag is not null) Check(imatrixTag, "--imatrix-tag");
        return imatrixTag is null ? $"{name}-{type.Name}.gguf" : $"{name}-{type.Name}-imat-{imatrixTag}.gguf";
    }

    private static void Check(string part, string option)
    {
        if (part.Length == 0 || part.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || part.Contains('/') || part.Contains('\\'))
            throw GgufOptimizeException.BadInput($"{option} '{part}' cannot be part of a file name");
    }

    [GeneratedRegex(@"[-_.](f32|f16|bf16|fp32|fp16)$", RegexOptions.IgnoreCase)]
    private static partial Regex PrecisionSuffix();
}
