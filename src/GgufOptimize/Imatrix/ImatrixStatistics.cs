using System.Text.RegularExpressions;

namespace GgufOptimize.Imatrix;

/// <summary>One input channel's importance: its mean squared activation (expert-qualified for MoE weights).</summary>
internal sealed record ChannelImportance(int Channel, int Expert, double MeanSquare);

/// <summary>Statistics of one weight's per-column mean squared activations (groups that saw nothing left out).</summary>
internal sealed record TensorStatistics(string Name, string Layer, int Columns, int Groups, long Rows,
    double Sum, double Mean, double Max, IReadOnlyList<ChannelImportance> TopChannels);

/// <summary>Totals over the weights of one layer (<c>blk.N</c>; "-" for weights outside the blocks).</summary>
internal sealed record LayerStatistics(string Layer, int Tensors, double Sum, double Mean);

/// <summary>What <c>imatrix stats</c> shows: where the calibration text drives the largest activations.</summary>
internal sealed partial record ImatrixStatistics(IReadOnlyList<string> Datasets, int ChunkCount, int ChunkSize,
    IReadOnlyList<TensorStatistics> Tensors, IReadOnlyList<LayerStatistics> Layers)
{
    public static ImatrixStatistics Compute(ImportanceMatrix matrix, int top = 5)
    {
        var tensors = new List<TensorStatistics>();
        var layerValues = new Dictionary<string, (int Tensors, double Sum, long Values)>();
        foreach (var e in matrix.Entries)
        {
            int width = e.Width;
            var values = new List<ChannelImportance>(e.Sums.Length);
            for (int g = 0; g < e.Groups; g++)
            {
                if (e.Counts[g] == 0) continue;
                for (int j = 0; j < width; j++) values.Add(new ChannelImportance(j, g, e.Sums[g * width + j] / e.Counts[g]));
            }
            double sum = values.Sum(v => v.MeanSquare);
            double mean = values.Count > 0 ? sum / values.Count : 0;
            double max = values.Count > 0 ? values.Max(v => v.MeanSquare) : 0;
            var best = values.OrderByDescending(v => v.MeanSquare).ThenBy(v => v.Expert).ThenBy(v => v.Channel).Take(top).ToList();
            string layer = LayerOf(e.Name);
            tensors.Add(new TensorStatistics(e.Name, layer, width, e.Groups, e.Counts.Sum(), sum, mean, max, best));
            var acc = layerValues.GetValueOrDefault(layer);
            layerValues[layer] = (acc.Tensors + 1, acc.Sum + sum, acc.Values + values.Count);
        }
        var layers = layerValues
            .Select(kv => new LayerStatistics(kv.Key, kv.Value.Tensors, kv.Value.Sum, kv.Value.Values > 0 ? kv.Value.Sum / kv.Value.Values : 0))
            .OrderBy(l => LayerOrder(l.Layer)).ThenBy(l => l.Layer, StringComparer.Ordinal).ToList();
        var ordered = tensors.OrderBy(t => LayerOrder(t.Layer)).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        return new ImatrixStatistics(matrix.Datasets.ToList(), matrix.ChunkCount, matrix.ChunkSize, ordered, layers);
    }

    private static string LayerOf(string name)
    {
        var m = BlockPattern().Match(name);
        return m.Success ? m.Groups[1].Value : "-";
    }

    private static long LayerOrder(string layer) => long.TryParse(layer, out long n) ? n : long.MaxValue;

    [GeneratedRegex(@"(?:^|\.)blk\.(\d+)\.")]
    private static partial Regex BlockPattern();
}
