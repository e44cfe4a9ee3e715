using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Quantization;

namespace GgufOptimize.Recipes;

/// <summary>
/// Measures, for every tensor group and candidate type, how much the mean KLD grows when only that group is
/// quantized (everything else at the model's own precision), paired on the same chunks of a stored baseline.
/// Every measurement is a file in the work folder, written atomically: a killed run resumes where it stopped.
/// </summary>
internal static class SensitivityRun
{
    public static SensitivityTable Run(SensitivityOptions o, IProgressSink progress, CancellationToken ct)
    {
        var types = Validate(o);
        var model = GgufFile.Read(o.ModelPath);
        var groups = TensorGroups.Of(model, o.Grouping);
        string reference = ReferenceType(model, groups);
        string output = Path.GetFullPath(o.OutputPath);
        OutputPaths.EnsureWritableDirectory(output, "--output");
        using var claim = OutputLock.Acquire(output, "--output");
        string work = Path.GetFullPath(o.WorkDirectory ?? Path.ChangeExtension(output, null) + ".work");
        CheckWorkFolder(work, o, reference);

        var measurer = new MixMeasurer(o.ModelPath, o.BaselineLogits, o.ImatrixPath, work, o.Chunks, o.Seed, o.Evaluation, progress);
        var keepRest = new TensorTypeRule(".*", reference);
        int total = 1 + groups.Count * types.Count + types.Count, done = 0;
        MixMeasurement? baseline = null;
        MixMeasurement Step(string id, IReadOnlyList<TensorTypeRule> rules)
        {
            bool stored = File.Exists(measurer.ResultPath(id));
            var m = measurer.Measure(id, rules, ct, o.EarlyStopping, baseline?.Chunks);
            done++;
            string early = m.StoppedEarly ? $" (decided after {m.Chunks.Count} of {baseline!.Chunks.Count} chunks)" : "";
            progress.Info($"[{done}/{total}] {id}: mean KLD {m.MeanKld.ToString("G4", CultureInfo.InvariantCulture)}{early}{(stored ? " (stored)" : "")}");
            return m;
        }

        // The reference is compared on every chunk: each mix is paired with it on whichever chunks it needed.
        baseline = Step("reference", [keepRest]);
        var entries = new List<SensitivityEntry>();
        foreach (var g in groups)
            foreach (var t in types)
            {
                var m = Step($"{g.Name}={t}", [new TensorTypeRule(g.Pattern, t), keepRest]);
                var (delta, se) = PairedDifference.Of(m.Chunks, baseline.Chunks);
                var actual = g.Tensors.Select(n => m.TensorTypes[n]).Distinct().ToList();
                long bytes = g.Tensors.Sum(n => m.TensorSizes[n]);
                long aligned = g.Tensors.Sum(n => Align(m.TensorSizes[n], model.Alignment));
                entries.Add(new SensitivityEntry(g.Name, t, string.Join("+", actual), bytes, aligned, delta, se, m.MeanKld, m.Score, m.Chunks.Count));
            }
        var checks = new List<AdditivityCheck>();
        foreach (var t in types)
        {
            var rules = groups.Select(g => new TensorTypeRule(g.Pattern, t)).Append(keepRest).ToList();
            var m = Step($"all={t}", rules);
            var (delta, se) = PairedDifference.Of(m.Chunks, baseline.Chunks);
            var mine = entries.Where(e => e.Type == t).ToList();
            checks.Add(new AdditivityCheck(t, mine.Sum(e => e.Delta), delta, Math.Sqrt(mine.Sum(e => e.DeltaSe * e.DeltaSe)), se, m.TensorBytes));
        }

        var inGroups = groups.SelectMany(g => g.Tensors).ToHashSet();
        var all = Directory.GetFiles(Path.Combine(work, "results"), "*.json").Select(f => RecipeJson.Read<MixMeasurement>(f, "measurement")).ToList();
        var table = new SensitivityTable
        {
            Model = Path.GetFullPath(o.ModelPath),
            ModelBytes = new FileInfo(o.ModelPath).Length,
            BaselineLogits = Path.GetFullPath(o.BaselineLogits),
            Imatrix = o.ImatrixPath is null ? null : Path.GetFullPath(o.ImatrixPath),
            Reference = reference,
            Grouping = o.Grouping.ToString().ToLowerInvariant(),
            Types = types,
            Chunks = baseline.Chunks.Select(c => c.Chunk).ToList(),
            Tokens = baseline.Tokens,
            Seed = o.Seed,
            Alignment = model.Alignment,
            TotalElements = model.ParameterCount,
            FixedBytes = model.Tensors.Where(t => !inGroups.Contains(t.Name)).Sum(t => Align(t.ByteSize, model.Alignment)),
            ReferenceMeanKld = baseline.MeanKld,
            ReferenceScore = baseline.Score,
            Groups = groups.Select(g => new GroupInfo(g.Name, g.Layer, g.Kind, g.Pattern, g.Tensors, g.Elements,
                g.Tensors.Sum(n => Align(model.Tensor(n).ByteSize, model.Alignment)))).ToList(),
            Entries = entries,
            Additivity = checks,
            Measurements = total,
            StoppedEarly = all.Count(m => m.StoppedEarly),
            ChunksCompared = all.Sum(m => (long)m.Chunks.Count),
            QuantizeSeconds = all.Sum(m => m.QuantizeSeconds),
            KldSeconds = all.Sum(m => m.KldSeconds),
        };
        SensitivityFiles.WriteAll(table, output);
        return table;
    }

    public static long Align(long bytes, long alignment) => alignment <= 1 ? bytes : (bytes + alignment - 1) / alignment * alignment;

    private static List<string> Validate(SensitivityOptions o)
    {
        if (o.Types.Count == 0) throw GgufOptimizeException.BadInput("--types names no tensor type (e.g. --types Q2_K,Q4_K,Q6_K)");
        var types = new List<string>();
        foreach (var t in o.Types)
        {
            int id = TensorTypeCatalog.Parse(t.Trim(), "--types");
            string name = TensorTypeCatalog.Name(id);
            if (!types.Contains(name)) types.Add(name);
        }
        if (o.Chunks < 2) throw GgufOptimizeException.BadInput($"--chunks must be at least 2 (got {o.Chunks}): the paired standard error needs two chunks");
        if (!File.Exists(o.ModelPath)) throw GgufOptimizeException.BadInput($"--model '{o.ModelPath}' does not exist");
        if (!File.Exists(o.BaselineLogits)) throw GgufOptimizeException.BadInput($"--baseline-logits '{o.BaselineLogits}' does not exist (make it with `gguf-optimize logits`)");
        if (o.ImatrixPath is not null && !File.Exists(o.ImatrixPath)) throw GgufOptimizeException.BadInput($"--imatrix '{o.ImatrixPath}' does not exist");
        o.EarlyStopping?.Validate();
        if (o.Evaluation.Threads < 0) throw GgufOptimizeException.BadInput($"--threads must not be negative (got {o.Evaluation.Threads})");
        return types;
    }

    /// <summary>The model's own precision: every grouped weight must be F32, F16 or BF16, all the same.</summary>
    private static string ReferenceType(GgufFile model, IReadOnlyList<TensorGroup> groups)
    {
        var stored = groups.SelectMany(g => g.Tensors).Select(n => TensorTypeCatalog.Name((int)model.Tensor(n).Type)).Distinct().ToList();
        if (stored.Count != 1 || stored[0] is not ("F32" or "F16" or "BF16"))
            throw GgufOptimizeException.BadInput($"--model: sensitivity needs an unquantized model whose weights are all F32, F16 or BF16; '{model.Path}' has {string.Join(", ", stored)}");
        return stored[0];
    }

    /// <summary>Measurements of other inputs must never be mixed in: the work folder records what it measured.</summary>
    private static void CheckWorkFolder(string work, SensitivityOptions o, string reference)
    {
        string identity = string.Join("\n",
            $"model {Path.GetFullPath(o.ModelPath)} {new FileInfo(o.ModelPath).Length} {File.GetLastWriteTimeUtc(o.ModelPath):O}",
            $"baseline {Path.GetFullPath(o.BaselineLogits)} {new FileInfo(o.BaselineLogits).Length}",
            $"imatrix {(o.ImatrixPath is null ? "none" : $"{Path.GetFullPath(o.ImatrixPath)} {new FileInfo(o.ImatrixPath).Length}")}",
            $"reference {reference}", $"chunks {o.Chunks} seed {o.Seed}", o.Evaluation.Key()) + (o.EarlyStopping is { } stop ? "\n" + stop.Key() : "") + "\n";
        string file = Path.Combine(work, "inputs.txt");
        if (File.Exists(file))
        {
            string old = File.ReadAllText(file);
            if (old != identity)
                throw GgufOptimizeException.BadInput($"work folder '{work}' holds measurements of other inputs ({FirstDifference(old, identity)}); delete it or pass another --work-dir");
        }
        else
        {
            Directory.CreateDirectory(work);
            AtomicFile.WriteAllText(file, identity);
        }
        Directory.CreateDirectory(Path.Combine(work, "results"));
    }

    private static string FirstDifference(string a, string b)
    {
        var x = a.Split('\n');
        var y = b.Split('\n');
        for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
            if (x[i] != y[i]) return $"was '{x[i]}', now '{y[i]}'";
        return "different";
    }
}
