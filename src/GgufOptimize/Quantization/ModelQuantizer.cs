using System.Diagnostics;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;

namespace GgufOptimize.Quantization;

/// <summary>
/// Quantizes one model to several types in turn with llama.cpp's own quantizer (what quantize.py did by
/// running llama-quantize), with or without an importance matrix. Every type is planned and checked before
/// the first one is written; each output appears under its final name only when complete.
/// </summary>
internal static class ModelQuantizer
{
    public static IReadOnlyList<QuantizeOutcome> Run(QuantizeOptions options, IProgressSink progress, CancellationToken cancellationToken = default)
    {
        if (options.Types.Count == 0) throw GgufOptimizeException.BadInput("no quantization type given (--types or --config)");
        if (options.Threads < 0) throw GgufOptimizeException.BadInput($"--threads must not be negative (got {options.Threads})");
        var model = GgufModelValidation.ReadChecked(options.ModelPath);
        if (model.Architecture is null) throw GgufOptimizeException.BadInput($"'{options.ModelPath}' is not a model (no general.architecture)");
        string outputDir = Path.GetFullPath(options.OutputDirectory);
        if (!options.DryRun) EnsureOutputFolder(outputDir);

        if (options.ImatrixPath is null)
        {
            var refused = options.Types.Where(ImatrixRequirement.ForFileType).Select(t => t.Name).ToList();
            if (refused.Count > 0)
                throw GgufOptimizeException.BadInput($"{string.Join(", ", refused)} need(s) an importance matrix: pass --imatrix (llama.cpp refuses these types without one)");
        }
        var imatrix = options.ImatrixPath is null ? null : PreparedImatrix.Load(options, model);
        string name = options.Name ?? OutputNaming.DefaultName(options.ModelPath);
        string? tag = options.ImatrixPath is null ? null : options.ImatrixTag ?? OutputNaming.DefaultTag(options.ImatrixPath);

        var planned = new List<(QuantizePlan Plan, NativeQuantizeRequest Request)>();
        progress.Start("planning", options.Types.Count);
        foreach (var type in options.Types)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string output = Path.Combine(outputDir, OutputNaming.FileName(name, type, tag));
            OutputPaths.EnsureNameFits(output, "--name");
            if (string.Equals(output, Path.GetFullPath(options.ModelPath), StringComparison.Ordinal))
                throw GgufOptimizeException.BadInput($"the {type.Name} output would be the input model itself ('{output}'); choose another --name or --output");
            var (plan, request) = QuantizePlanner.Plan(type, output, options, model, imatrix);
            CheckFeasible(plan, options, imatrix);
            planned.Add((plan, request));
            progress.Report(planned.Count);
        }
        progress.Finish();
        if (options.DryRun) return planned.Select(p => new QuantizeOutcome(p.Plan, QuantizeStatus.Planned, TimeSpan.Zero, 0)).ToList();

        // Every output is claimed before the first is written, so a second run into the same files stops at once.
        var claims = new List<OutputLock>();
        try
        {
            foreach (var (plan, _) in planned) claims.Add(OutputLock.Acquire(plan.OutputPath, "--output"));
            return WriteAll(planned, options, progress, cancellationToken);
        }
        finally
        {
            foreach (var claim in claims) claim.Dispose();
        }
    }

    private static List<QuantizeOutcome> WriteAll(List<(QuantizePlan Plan, NativeQuantizeRequest Request)> planned, QuantizeOptions options, IProgressSink progress, CancellationToken cancellationToken)
    {
        // Every model this run writes must fit, or llama.cpp fails halfway with an iostream error.
        var toWrite = planned.Where(p => options.Overwrite || !File.Exists(p.Plan.OutputPath)).ToList();
        if (toWrite.Count > 0)
            OutputPaths.EnsureFreeSpace(toWrite[0].Plan.OutputPath, toWrite.Sum(p => p.Plan.TargetBytes + MetadataAllowance), "the quantized model(s) in");
        var outcomes = new List<QuantizeOutcome>();
        foreach (var (plan, request) in planned)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.Exists(plan.OutputPath) && !options.Overwrite)
            {
                progress.Info($"{plan.OutputPath} exists; skipped (use --overwrite to replace it)");
                outcomes.Add(new QuantizeOutcome(plan, QuantizeStatus.Skipped, TimeSpan.Zero, new FileInfo(plan.OutputPath).Length));
                continue;
            }
            outcomes.Add(Write(plan, request, progress));
        }
        return outcomes;
    }

    private static QuantizeOutcome Write(QuantizePlan plan, NativeQuantizeRequest request, IProgressSink progress)
    {
        string partial = plan.OutputPath + ".partial";
        AtomicFile.TryDelete(partial);
        progress.Start($"{plan.Type.Name} -> {Path.GetFileName(plan.OutputPath)}", plan.Tensors.Count);
        var clock = Stopwatch.StartNew();
        var result = NativeQuantizer.Run(request with { OutputPath = partial, DryRun = false, OnTensor = (index, _) => progress.Report(index - 1) });
        FileStep.External("llama.cpp wrote", partial);
        clock.Stop();
        progress.Report(plan.Tensors.Count);
        progress.Finish();
        if (!result.Succeeded)
        {
            AtomicFile.TryDelete(partial);
            string native = NativeRuntime.LastNativeError();
            if (native.Contains("iostream", StringComparison.OrdinalIgnoreCase) || native.Contains("write", StringComparison.OrdinalIgnoreCase))
                throw GgufOptimizeException.Runtime($"llama.cpp could not write '{plan.OutputPath}' ({native.Trim()}); is the disk full? {FreeSpace(plan.OutputPath)} free, the model needs about {Units.Bytes(plan.TargetBytes)}");
            throw GgufOptimizeException.Runtime($"llama.cpp failed to quantize to {plan.Type.Name}: {native}");
        }
        FileStep.Move(partial, plan.OutputPath, overwrite: true);
        var written = GgufFile.Read(plan.OutputPath);
        foreach (var t in plan.Tensors)
        {
            var actual = written.FindTensor(t.Name);
            if (actual is null || !string.Equals(TensorTypeCatalog.Name((int)actual.Type), t.TargetType, StringComparison.OrdinalIgnoreCase))
                progress.Warn($"{Path.GetFileName(plan.OutputPath)}: '{t.Name}' is {(actual is null ? "missing" : TensorTypeCatalog.Name((int)actual.Type))}, the plan said {t.TargetType}");
        }
        return new QuantizeOutcome(plan, QuantizeStatus.Written, clock.Elapsed, new FileInfo(plan.OutputPath).Length);
    }

    /// <summary>Header, metadata and alignment on top of the tensor data: generous, vocabularies are stored there.</summary>
    private const long MetadataAllowance = 16L << 20;

    private static string FreeSpace(string path) => OutputPaths.FreeBytes(path) is long free ? Units.Bytes(free) : "unknown space";

    /// <summary>What llama.cpp would only discover halfway through writing: fail before anything is written.</summary>
    private static void CheckFeasible(QuantizePlan plan, QuantizeOptions options, PreparedImatrix? imatrix)
    {
        foreach (var t in plan.Tensors.Where(t => t.Converted))
        {
            bool needs = TensorTypeCatalog.TryParse(t.TargetType, out int target) && ImatrixRequirement.ForTensor(t.Name, target, plan.Type);
            if (needs && (imatrix is null || !imatrix.Covers(t.Name)))
                throw GgufOptimizeException.BadInput(imatrix is null
                    ? $"{plan.Type.Name} needs an importance matrix: '{t.Name}' would be {t.TargetType}, which llama.cpp refuses to make without one (pass --imatrix)"
                    : $"{plan.Type.Name}: '{t.Name}' would be {t.TargetType}, which needs imatrix data, and '{imatrix.Path}' has none for it (check --include/--exclude-weights)");
            if (!options.AllowRequantize && IsQuantized(t.SourceType))
                throw GgufOptimizeException.BadInput($"'{t.Name}' is already {t.SourceType}; converting it to {t.TargetType} needs --allow-requantize");
        }
    }

    /// <summary>Created when missing; must accept new files before the first type is planned.</summary>
    private static void EnsureOutputFolder(string folder)
    {
        try
        {
            FileStep.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw GgufOptimizeException.BadInput($"--output: cannot create '{folder}' ({e.Message})");
        }
        OutputPaths.EnsureWritableDirectory(Path.Combine(folder, "probe.gguf"), "--output");
    }

    private static bool IsQuantized(string type) => type is not ("F32" or "F16" or "BF16" or "F64" or "I8" or "I16" or "I32" or "I64");

}
