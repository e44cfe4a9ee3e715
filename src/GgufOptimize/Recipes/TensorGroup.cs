using System.Text.RegularExpressions;
using GgufOptimize.Common;
using GgufOptimize.Gguf;

namespace GgufOptimize.Recipes;

/// <summary>How tensors are grouped for sensitivity: one group per layer and tensor kind, or one per kind over all layers.</summary>
internal enum GroupingMode
{
    Layer,
    Tensor,
}

/// <summary>
/// Weights that are quantized together: one tensor kind of one layer (<see cref="Layer"/> set), one kind over all
/// layers, or token_embd / output. <see cref="Pattern"/> is the llama.cpp tensor-type regular expression that
/// selects exactly these tensors.
/// </summary>
internal sealed record TensorGroup(string Name, int? Layer, string Kind, IReadOnlyList<string> Tensors, long Elements)
{
    public string Pattern => Kind is "token_embd" or "output"
        ? $"^{Kind}\\.weight$"
        : Layer is int l ? $"^blk\\.{l}\\.{Kind}\\.weight$" : $"^blk\\.\\d+\\.{Kind}\\.weight$";
}

/// <summary>The groups of a llama-style model's weights.</summary>
internal static partial class TensorGroups
{
    /// <summary>Per-layer tensor kinds, in the order tables and heat maps show them.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];

    public static IReadOnlyList<TensorGroup> Of(GgufFile model, GroupingMode mode)
    {
        var perLayer = new List<(int Layer, string Kind, GgufTensorInfo Tensor)>();
        foreach (var t in model.Tensors)
        {
            var m = LayerTensor().Match(t.Name);
            if (m.Success) perLayer.Add((int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value, t));
        }
        var groups = new List<TensorGroup>();
        if (model.FindTensor("token_embd.weight") is { } embd) groups.Add(new("token_embd", null, "token_embd", [embd.Name], embd.ElementCount));
        if (mode == GroupingMode.Layer)
        {
            foreach (var g in perLayer.OrderBy(p => p.Layer).ThenBy(p => IndexOfKind(p.Kind)))
                groups.Add(new($"blk.{g.Layer}.{g.Kind}", g.Layer, g.Kind, [g.Tensor.Name], g.Tensor.ElementCount));
        }
        else
        {
            foreach (var kind in Kinds)
            {
                var members = perLayer.Where(p => p.Kind == kind).OrderBy(p => p.Layer).ToList();
                if (members.Count > 0) groups.Add(new(kind, null, kind, members.Select(p => p.Tensor.Name).ToList(), members.Sum(p => p.Tensor.ElementCount)));
            }
        }
        if (model.FindTensor("output.weight") is { } output) groups.Add(new("output", null, "output", [output.Name], output.ElementCount));
        if (groups.Count == 0)
            throw GgufOptimizeException.BadInput($"--model: '{model.Path}' has none of the weights sensitivity groups (token_embd, blk.N.attn_*/ffn_*, output)");
        return groups;
    }

    private static int IndexOfKind(string kind) => Kinds.ToList().IndexOf(kind);

    [GeneratedRegex(@"^blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$")]
    private static partial Regex LayerTensor();
}
