using System.Text.RegularExpressions;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;

namespace GgufOptimize.Quantization;

/// <summary>
/// Asks llama.cpp what it will do (a dry run of its own quantizer) and makes sure it will not fail on a row
/// length: where the chosen type does not fit and llama.cpp has no fallback, that tensor is pinned to the
/// nearest type that fits through a tensor-type override, and the dry run is repeated.
/// </summary>
internal static class QuantizePlanner
{
    /// <summary>Types a tensor may be kept in instead, in order of preference at equal precision.</summary>
    private static readonly string[] Substitutes = ["Q4_0", "Q4_1", "IQ4_NL", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "IQ3_S", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K"];

    /// <summary>The plan for one type, and the exact llama.cpp request that carries it out.</summary>
    public static (QuantizePlan Plan, NativeQuantizeRequest Request) Plan(QuantizationType type, string outputPath,
        QuantizeOptions options, GgufFile model, PreparedImatrix? imatrix)
    {
        var substitutions = new List<TypeSubstitution>();
        int? outputType = ResolveDirectType(options.OutputTensorType, "--output-tensor-type", ["output.weight"], model, options.Strict, substitutions);
        int? embeddingType = ResolveDirectType(options.TokenEmbeddingType, "--token-embedding-type", ["token_embd.weight", "per_layer_token_embd.weight"], model, options.Strict, substitutions);

        var pins = new List<KeyValuePair<string, int>>();
        var baseRequest = new NativeQuantizeRequest
        {
            InputPath = model.Path,
            OutputPath = outputPath,
            FileType = type.FileType,
            OnlyCopy = type.OnlyCopy,
            Threads = options.Threads,
            AllowRequantize = options.AllowRequantize,
            QuantizeOutputTensor = !options.LeaveOutputTensor,
            Pure = options.Pure,
            OutputTensorType = outputType,
            TokenEmbeddingType = embeddingType,
            Imatrix = imatrix?.Values ?? [],
            Metadata = imatrix?.Provenance(outputPath) ?? [],
        };

        for (int attempt = 0; attempt <= model.Tensors.Count + 1; attempt++)
        {
            // Our pins come first: llama.cpp applies the first pattern that matches.
            var request = baseRequest with
            {
                TensorTypes = pins.Concat(options.TensorTypes.Select(r => new KeyValuePair<string, int>(r.Pattern, r.TypeId))).ToList(),
            };
            var result = NativeQuantizer.Run(request with { DryRun = true });
            var log = DryRunLog.Parse(result.Log);
            if (result.Succeeded)
            {
                var plan = BuildPlan(type, outputPath, model, log, substitutions);
                return (plan, request);
            }
            if (log.Unfittable is not { } stuck)
                throw GgufOptimizeException.Runtime($"llama.cpp cannot quantize '{model.Path}' to {type.Name}: {NativeRuntime.LastNativeError()}");
            if (pins.Any(p => p.Key == ExactPattern(stuck.Tensor)))
                throw GgufOptimizeException.Runtime($"llama.cpp still rejects '{stuck.Tensor}' after keeping it in {TensorTypeCatalog.Name(pins.First(p => p.Key == ExactPattern(stuck.Tensor)).Value)}");
            int wanted = TensorTypeCatalog.Parse(stuck.WantedType, "llama.cpp");
            if (options.Strict)
                throw GgufOptimizeException.BadInput($"{type.Name}: tensor '{stuck.Tensor}' has rows of {stuck.RowLength}, which {TensorTypeCatalog.Name(wanted)} (blocks of {stuck.BlockSize}) cannot hold and llama.cpp has no fallback for; drop --strict to keep it in a type that fits");
            int used = NearestFit(stuck.RowLength, wanted);
            pins.Add(new(ExactPattern(stuck.Tensor), used));
            substitutions.Add(new TypeSubstitution(stuck.Tensor, stuck.RowLength, stuck.BlockSize, TensorTypeCatalog.Name(wanted), TensorTypeCatalog.Name(used), ByLlamaCpp: false));
        }
        throw GgufOptimizeException.Runtime($"could not find a {type.Name} plan for '{model.Path}' that llama.cpp accepts");
    }

    /// <summary>
    /// --output-tensor-type and --token-embedding-type bypass llama.cpp's shape fallback entirely (a misfit
    /// would abort the process), so they are checked here against the tensors they apply to.
    /// </summary>
    private static int? ResolveDirectType(string? name, string option, string[] tensors, GgufFile model, bool strict, List<TypeSubstitution> substitutions)
    {
        if (name is null) return null;
        int id = TensorTypeCatalog.Parse(name, option);
        int result = id;
        foreach (var tensorName in tensors)
        {
            if (model.FindTensor(tensorName) is not { } t) continue;
            long row = t.Dimensions[0];
            if (TensorTypeCatalog.Fits(result, row)) continue;
            if (strict)
                throw GgufOptimizeException.BadInput($"{option} {TensorTypeCatalog.Name(id)}: '{tensorName}' has rows of {row}, which blocks of {TensorTypeCatalog.BlockSize(id)} cannot hold");
            int used = NearestFit(row, id);
            substitutions.Add(new TypeSubstitution(tensorName, row, TensorTypeCatalog.BlockSize(id), TensorTypeCatalog.Name(id), TensorTypeCatalog.Name(used), ByLlamaCpp: false));
            result = used;
        }
        return result;
    }

    /// <summary>The type of the fewest bits per weight, not fewer than <paramref name="wanted"/> has, whose blocks fit the row; F16 if none.</summary>
    internal static int NearestFit(long rowLength, int wanted)
    {
        double floor = TensorTypeCatalog.BitsPerWeight(wanted);
        int best = -1;
        double bestBits = double.MaxValue;
        foreach (var name in Substitutes)
        {
            if (!TensorTypeCatalog.TryParse(name, out int id) || !TensorTypeCatalog.Fits(id, rowLength)) continue;
            double bits = TensorTypeCatalog.BitsPerWeight(id);
            if (bits >= floor && bits < bestBits)
            {
                best = id;
                bestBits = bits;
            }
        }
        return best >= 0 ? best : TensorTypeCatalog.Parse("F16", "substitute");
    }

    private static string ExactPattern(string tensor) => "^" + Regex.Escape(tensor) + "$";

    private static QuantizePlan BuildPlan(QuantizationType type, string outputPath, GgufFile model, DryRunLog log, List<TypeSubstitution> substitutions)
    {
        if (log.Tensors.Count != model.Tensors.Count)
            throw GgufOptimizeException.Runtime($"could not read llama.cpp's plan for {type.Name}: it listed {log.Tensors.Count} of {model.Tensors.Count} tensors");
        var tensors = new List<PlannedTensor>(log.Tensors.Count);
        foreach (var line in log.Tensors)
        {
            var source = model.FindTensor(line.Name)
                ?? throw GgufOptimizeException.Runtime($"llama.cpp planned a tensor '{line.Name}' that '{model.Path}' does not have");
            int targetId = TensorTypeCatalog.Parse(line.TargetType, "llama.cpp");
            string sourceName = TensorTypeCatalog.Name((int)source.Type);
            string targetName = TensorTypeCatalog.Name(targetId);
            long targetBytes = targetId == (int)source.Type ? source.ByteSize : TensorTypeCatalog.TensorBytes(targetId, source.Dimensions);
            tensors.Add(new PlannedTensor(line.Name, source.Dimensions, sourceName, targetName, source.ByteSize, targetBytes));
        }
        var all = substitutions.Concat(log.Fallbacks.Select(f => new TypeSubstitution(f.Tensor, f.RowLength, f.BlockSize,
            TensorTypeCatalog.Name(TensorTypeCatalog.Parse(f.WantedType, "llama.cpp")),
            TensorTypeCatalog.Name(TensorTypeCatalog.Parse(f.UsedType!, "llama.cpp")), ByLlamaCpp: true))).ToList();
        return new QuantizePlan(type, outputPath, tensors, all);
    }
}
