using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Gguf;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize inspect model.gguf [--json] [--metadata]</c>: what a GGUF model is, from its header.</summary>
internal static class InspectCommand
{
    private static readonly JsonSerializerOptions Json = JsonOutput.CamelCase;

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The GGUF file to describe" };
        var json = new JsonOption();
        var metadata = new Option<bool>("--metadata")
        {
            Description = "Also list every metadata key with its type and value (long arrays shortened)",
            DefaultValueFactory = _ => false,
        };
        var command = new Command("inspect", "Show a GGUF model's architecture, size, tensor types and bits per weight")
        {
            model, json.Option, metadata,
        };
        CommandRunner.SetAction(command, (parseResult, ctx, ct) =>
        {
            var summary = ModelInspector.Inspect(parseResult.GetValue(model)!, parseResult.GetValue(metadata));
            json.Emit(parseResult, () => JsonSerializer.Serialize(summary, Json), () => Render(summary));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    internal static string Render(ModelSummary s)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        void Line(string label, string? value)
        {
            if (value is not null) b.Append(c, $"{label,-16}{value}\n");
        }
        string? N(long? v) => v?.ToString("N0", c);

        Line("file", $"{s.Path} ({s.FileBytes.ToString("N0", c)} bytes, GGUF v{s.GgufVersion}, alignment {s.Alignment})");
        if (s.Shards.Count > 1)
            Line("split", $"{s.Shards.Count} shards: " + string.Join(", ", s.Shards.Select(x => $"{x.File} ({x.Tensors} tensors, {x.Bytes.ToString("N0", c)} bytes)")));
        Line("architecture", s.Architecture ?? "(not set)");
        Line("name", s.Name);
        Line("parameters", $"{N(s.ParameterCount)} ({Short(s.ParameterCount)})");
        Line("embedding", N(s.EmbeddingLength));
        Line("layers", N(s.BlockCount));
        Line("heads", s.HeadCount is null ? null : $"{N(s.HeadCount)} (kv heads {N(s.HeadCountKv) ?? "?"})");
        Line("feed-forward", N(s.FeedForwardLength));
        Line("context length", N(s.ContextLength));
        Line("vocabulary", s.VocabSize is null ? null : $"{N(s.VocabSize)} tokens (tokenizer {s.TokenizerModel ?? "?"})");
        Line("file type", s.FileType is null ? "(not set)" : $"{s.FileTypeName} ({s.FileType})");
        Line("tensors", $"{s.TensorCount}: " + string.Join(", ", s.TensorTypes.Select(t => $"{t.Type} x{t.Tensors}")));
        Line("size", $"{s.TensorDataBytes.ToString("N0", c)} bytes of tensor data, {s.BitsPerWeight.ToString("F3", c)} bits per weight");
        b.Append('\n');
        b.Append(c, $"{"type",-10}{"tensors",8}{"parameters",16}{"bytes",18}{"bits/weight",13}\n");
        foreach (var t in s.TensorTypes)
            b.Append(c, $"{t.Type,-10}{t.Tensors,8}{t.Parameters,16:N0}{t.Bytes,18:N0}{(t.Parameters > 0 ? t.Bytes * 8.0 / t.Parameters : 0),13:F3}\n");
        if (s.Metadata is not null)
        {
            b.Append(c, $"\nmetadata ({s.MetadataCount} keys)\n");
            int width = Math.Min(48, s.Metadata.Select(e => e.Key.Length).DefaultIfEmpty(0).Max() + 2);
            foreach (var e in s.Metadata)
                b.Append(c, $"{e.Key.PadRight(width)}{e.Type,-16}{e.Value}\n");
        }
        return b.ToString();
    }

    private static string Short(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
