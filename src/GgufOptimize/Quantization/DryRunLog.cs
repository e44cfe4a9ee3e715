using System.Globalization;
using System.Text.RegularExpressions;

namespace GgufOptimize.Quantization;

/// <summary>
/// What llama.cpp's quantizer reported during a dry run: the type it chose for each tensor, the shape
/// fallbacks it made, and (when it gave up) the tensor whose row length no type fitted.
/// </summary>
internal sealed partial class DryRunLog
{
    /// <summary>One "[ i/ n] name - [dims], type = cur, size = … (new)" line.</summary>
    public sealed record TensorLine(string Name, long[] Dimensions, string CurrentType, string TargetType);

    /// <summary>One "ncols N not divisible by B (required for type T)" warning; <see cref="UsedType"/> null when llama.cpp gave up.</summary>
    public sealed record ShapeWarning(string Tensor, long RowLength, long BlockSize, string WantedType, string? UsedType);

    public IReadOnlyList<TensorLine> Tensors { get; }
    public IReadOnlyList<ShapeWarning> Fallbacks { get; }
    /// <summary>The tensor llama.cpp could not place ("no tensor type fallback is defined"), if that is why it failed.</summary>
    public ShapeWarning? Unfittable { get; }

    private DryRunLog(List<TensorLine> tensors, List<ShapeWarning> fallbacks, ShapeWarning? unfittable)
    {
        Tensors = tensors;
        Fallbacks = fallbacks;
        Unfittable = unfittable;
    }

    public static DryRunLog Parse(string log)
    {
        var tensors = new List<TensorLine>();
        foreach (Match m in TensorLinePattern().Matches(log))
        {
            var dims = m.Groups["dims"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
            // Trailing 1s are padding of the fixed four-column display.
            int n = dims.Length;
            while (n > 1 && dims[n - 1] == 1) n--;
            string current = m.Groups["cur"].Value;
            string target = m.Groups["new"].Success ? m.Groups["new"].Value : current;
            tensors.Add(new TensorLine(m.Groups["name"].Value, dims[..n], current, target));
        }

        var fallbacks = new List<ShapeWarning>();
        ShapeWarning? unfittable = null;
        foreach (Match m in ShapeWarningPattern().Matches(log))
        {
            var w = new ShapeWarning(m.Groups["name"].Value,
                long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture),
                long.Parse(m.Groups["b"].Value, CultureInfo.InvariantCulture),
                m.Groups["want"].Value,
                m.Groups["used"].Success ? m.Groups["used"].Value : null);
            if (w.UsedType is null) unfittable = w;
            else fallbacks.Add(w);
        }
        if (!log.Contains("no tensor type fallback", StringComparison.Ordinal)) unfittable = null;
        return new DryRunLog(tensors, fallbacks, unfittable);
    }

    [GeneratedRegex(@"^\[\s*\d+/\s*\d+\]\s+(?<name>\S+)\s+-\s+\[(?<dims>[^\]]*)\],\s+type =\s+(?<cur>\S+?),\s+size =\s+[\d.]+ MiB(?:\s+->\s+[\d.]+ MiB \((?<new>[^)\s]+)\))?", RegexOptions.Multiline)]
    private static partial Regex TensorLinePattern();

    [GeneratedRegex(@"warning: (?<name>\S+)\s+- ncols\s+(?<n>\d+) not divisible by\s+(?<b>\d+) \(required for type\s+(?<want>[^)\s]+)\)\s*(?:\(WARNING: must use F16 due to unusual shape\)\s*)?(?:-> falling back to\s+(?<used>\S+))?")]
    private static partial Regex ShapeWarningPattern();
}
