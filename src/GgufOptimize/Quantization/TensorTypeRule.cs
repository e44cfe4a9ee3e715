using System.Text.RegularExpressions;
using GgufOptimize.Common;

namespace GgufOptimize.Quantization;

/// <summary>
/// A --tensor-type PATTERN=TYPE rule: tensors whose name contains a match of the regular expression
/// (first rule wins) are stored in TYPE. The pattern is lower-cased, as llama-quantize does.
/// </summary>
internal sealed record TensorTypeRule(string Pattern, string TypeName)
{
    internal int TypeId => TensorTypeCatalog.Parse(TypeName, "--tensor-type");

    public static TensorTypeRule Parse(string text)
    {
        int eq = text.LastIndexOf('=');
        if (eq <= 0 || eq == text.Length - 1)
            throw GgufOptimizeException.BadInput($"--tensor-type '{text}' must look like PATTERN=TYPE (e.g. attn_v=q8_0)");
        string pattern = text[..eq].Trim().ToLowerInvariant();
        string type = text[(eq + 1)..].Trim();
        try
        {
            _ = new Regex(pattern, RegexOptions.ECMAScript);
        }
        catch (ArgumentException e)
        {
            throw GgufOptimizeException.BadInput($"--tensor-type '{text}': '{pattern}' is not a valid regular expression ({e.Message})");
        }
        var rule = new TensorTypeRule(pattern, type);
        _ = rule.TypeId; // unknown types fail here, before any work
        return rule;
    }

    public override string ToString() => $"{Pattern}={TypeName}";
}
