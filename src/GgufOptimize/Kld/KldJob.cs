using System.Globalization;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>
/// Step 2 of the method: compare a target (a quantized model, or stored logits) with the baseline chunk by chunk.
/// Each finished chunk's per-token results are saved at once (<see cref="KldChunkStore"/>), so a killed run resumes
/// at the first unfinished chunk and the final numbers equal an uninterrupted run's.
/// </summary>
internal static class KldJob
{
    public static KldJobResult Run(KldJobOptions o, IProgressSink progress, CancellationToken cancellationToken)
    {
        Validate(o);
        OutputPaths.EnsureWritableDirectory(o.OutputFile, "--output");
        using var claim = OutputLock.Acquire(o.OutputFile, "--output");
        using var keepClaim = o.KeepLogits is null ? null : OutputLock.Acquire(o.KeepLogits, "--keep-logits");
        using var targetClaim = o.TargetLogitsOutput is null ? null : OutputLock.Acquire(o.TargetLogitsOutput, "--target-logits-output");
        using var inputs = KldInputs.Open(o, progress);
        if (o.Tuning is { } tuning) tuning.Check(o.TargetModel ?? o.BaselineModel ?? throw GgufOptimizeException.BadInput($"{GgufOptimize.Tuning.TuningFile.OptionName} applies to a model this command runs (--target-model or --baseline-model)"), inputs.Baseline.ContextSize);
        if (o.SkipFirst >= inputs.Baseline.ContextSize - 1)
            throw GgufOptimizeException.BadInput($"--skip-first {o.SkipFirst} leaves no position to score in chunks of {inputs.Baseline.ContextSize} tokens: it must be below {inputs.Baseline.ContextSize - 1}");
        var (from, to) = ChunkRange.Resolve(o.FromChunk, o.ToChunk, inputs.Baseline.TotalChunks, toOption: o.ToChunkOption);
        if (o.Shard is { } shard)
        {
            // Chunks the baseline lacks weigh nothing: they cost no work.
            (from, to) = shard.Select(new ChunkRange(from, to), c => inputs.Baseline.HasChunk(c) ? inputs.Baseline.ChunkTokens(c).Length : 0);
            progress.Info($"shard {shard}: chunks {from}..{to - 1} of {inputs.Baseline.TotalChunks}");
        }
        var identity = inputs.Identity(o.SkipFirst);

        var reused = LoadFinishedOutput(o, identity, from, to, progress);
        var store = KldChunkStore.Open(o.OutputFile, identity, o.Clobber, progress);
        var bootstrap = new BootstrapOptions(o.Resamples, o.Confidence, o.Seed, Hardware.PhysicalCores);

        var available = new List<int>();
        var missing = new List<int>();
        for (int c = from; c < to; c++)
            (inputs.Baseline.HasChunk(c) ? available : missing).Add(c);
        // Early stopping visits the range in a seeded random order, so every prefix is a random sample of it; a
        // comparison limited to a sample takes the same order's first chunks (the ones an early-stopped run used).
        bool randomOrder = o.EarlyStopping || o.SampleChunks is not null;
        var visit = randomOrder ? ChunkOrder.Shuffled(available, o.Seed) : available.ToArray();
        if (o.SampleChunks is int sample && sample < visit.Length) visit = visit[..sample];
        var rule = o.EarlyStopping ? new EarlyStoppingRule(available.Count, new EarlyStoppingOptions(o.MarginOfError, o.MinChunks, bootstrap)) : null;

        var results = new List<ChunkResult>();
        int computed = 0, fromDisk = 0;
        StoppingLook? look = null;
        var trace = new List<StoppingLook>();
        progress.Start("kld", visit.Length);
        foreach (int c in visit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = reused.GetValueOrDefault(c) ?? store.TryLoad(c);
            if (result is null)
            {
                result = inputs.Compare(c, o.SkipFirst);
                store.Save(result);
                computed++;
                if (result.NonFiniteRows > 0)
                    progress.Warn($"chunk {c}: {result.NonFiniteRows} positions with NaN/Inf target logits were excluded");
                progress.Report(results.Count + 1, result.Count + 1 + o.SkipFirst);
            }
            else
            {
                fromDisk++;
                progress.Report(results.Count + 1);
            }
            results.Add(result);

            if (rule is not null && rule.LookAt(results.Count) > 0)
            {
                look = rule.Evaluate(results.Select(r => (ReadOnlyMemory<double>)r.Kld).ToArray());
                trace.Add(look);
                if (look.Stop) break;
            }
        }
        progress.Finish();
        if (missing.Count > 0)
            progress.Warn($"the baseline lacks {missing.Count} chunk(s) of the range {from}..{to - 1} (first: {missing[0]}); compared the {available.Count} chunk(s) it has");
        if (results.Count == 0)
            throw GgufOptimizeException.BadInput($"nothing to compare: the baseline has none of the chunks {from}..{to - 1}");
        results.Sort((a, b) => a.ChunkIndex.CompareTo(b.ChunkIndex));
        var early = EarlyStoppingSummary.Of(o, rule, look, results, available.Count, randomOrder);

        var overall = KldStatistics.Compute(results);
        FiniteOutcome.Require(overall, o.OutputFile);
        long floored = results.Sum(c => (long)c.FlooredNextTokens);
        if (floored > 0)
            progress.Warn($"{floored} of {overall.Tokens} scored next tokens have a baseline log-probability below the .kld file's floor (16 nats under the top); {ComparisonProvenance.FloorAffected} use the floor instead and are not exact");
        var provenance = new ComparisonProvenance
        {
            Inputs = identity,
            BaselineFile = inputs.Baseline.Description,
            Target = inputs.Target.Description,
            MissingBaselineChunks = missing,
            VocabSize = inputs.Baseline.VocabSize,
            ContextSize = inputs.Baseline.ContextSize,
            FromChunk = from,
            ToChunk = to,
            ChunksCompared = results.Count,
            EarlyStopping = early,
            StoppingTrace = trace,
            Labels = o.Labels,
            FirstStoredPosition = inputs.Baseline.FirstStoredPosition,
            FlooredNextTokens = floored,
            TargetFacts = inputs.Target.Facts() is { } facts ? facts with { Path = RecordedPath.Of(facts.Path, o.OutputFile) } : null,
            BaselineFacts = BaselineFacts.Of(inputs.Baseline.Header),
        };
        inputs.Complete();
        KldOutputFile.Write(o.OutputFile, results, overall, provenance);
        store.Delete();
        return new KldJobResult
        {
            OutputFile = o.OutputFile,
            Overall = overall,
            Chunks = results,
            Provenance = provenance,
            MissingBaselineChunks = missing,
            ChunksComputed = computed,
            ChunksReused = fromDisk,
        };
    }

    /// <summary>
    /// A finished output for the same inputs is reused chunk by chunk: a range that covers it extends it. A range
    /// that leaves some of its chunks out would rewrite it smaller, which only --overwrite (Clobber) may do.
    /// </summary>
    private static Dictionary<int, ChunkResult> LoadFinishedOutput(KldJobOptions o, ComparisonInputs identity, int from, int to, IProgressSink progress)
    {
        var reused = new Dictionary<int, ChunkResult>();
        if (!File.Exists(o.OutputFile)) return reused;
        string? why = null;
        KldOutputFile.Contents? contents = null;
        try
        {
            contents = KldOutputFile.Read(o.OutputFile);
            foreach (var (k, v) in identity.ToAttributes())
                if (!contents.Provenance.TryGetValue(k, out var old) || old != v) { why = $"{k} was '{old ?? "missing"}', now '{v}'"; break; }
        }
        catch (GgufOptimizeException e) { why = e.Message; }
        if (why is not null)
        {
            if (!o.Clobber) throw GgufOptimizeException.BadInput($"output '{o.OutputFile}' exists from other inputs ({why}); use --overwrite to replace it");
            progress.Warn($"replacing '{o.OutputFile}' ({why})");
            FileStep.Delete(o.OutputFile);
            return reused;
        }
        var outside = contents!.Chunks.Select(c => c.ChunkIndex).Where(c => c < from || c >= to).ToList();
        if (outside.Count > 0)
        {
            int first = contents.Chunks.Min(c => c.ChunkIndex), last = contents.Chunks.Max(c => c.ChunkIndex);
            string what = $"'{o.OutputFile}' is a finished comparison of {contents.Chunks.Count} chunk(s) ({first}..{last}) from the same inputs";
            if (!o.Clobber)
                throw GgufOptimizeException.BadInput($"{what}; the range {from}..{to - 1} would replace it with fewer: use a range that includes {first}..{last} to extend it, or --overwrite to replace it");
            progress.Warn($"replacing {what} with the range {from}..{to - 1}");
            FileStep.Delete(o.OutputFile);
            return reused;
        }
        foreach (var chunk in contents.Chunks) reused[chunk.ChunkIndex] = chunk;
        return reused;
    }

    private static void Validate(KldJobOptions o)
    {
        if ((o.BaselineLogits is null) == (o.BaselineModel is null))
            throw GgufOptimizeException.BadInput("give exactly one of --baseline-logits or --baseline-model");
        if ((o.TargetModel is null) == (o.TargetLogits is null))
            throw GgufOptimizeException.BadInput("give exactly one of --target-model or --target-logits");
        if (o.BaselineModel is not null && o.Dataset is null)
            throw GgufOptimizeException.BadInput("--baseline-model needs --dataset (the text both models are run on)");
        if (o.BaselineModel is not null && o.TargetLogits is not null)
            throw GgufOptimizeException.BadInput("--baseline-model goes with --target-model; to compare stored logits give --baseline-logits");
        if (o.KeepLogits is not null && o.BaselineModel is null)
            throw GgufOptimizeException.BadInput("--keep-logits stores the baseline model's logits; it needs --baseline-model");
        if (o.TargetLogitsOutput is not null && o.TargetModel is null)
            throw GgufOptimizeException.BadInput("--target-logits-output stores the target model's logits; it needs --target-model");
        if (o.Keep is int keep)
        {
            if (keep < 1) throw GgufOptimizeException.BadInput($"--keep must be at least 1 (got {keep}); leave it out to keep every chunk");
            if (o.KeepLogits is null && o.TargetLogitsOutput is null)
                throw GgufOptimizeException.BadInput("--keep bounds the generated logits files: give --keep-logits and/or --target-logits-output");
        }
        foreach (var (path, option) in new[] { (o.KeepLogits, "--keep-logits"), (o.TargetLogitsOutput, "--target-logits-output") })
            if (path is not null && Path.GetFullPath(path) == Path.GetFullPath(o.OutputFile))
                throw GgufOptimizeException.BadInput($"{option} '{path}' is the comparison output itself; give another file");
        if (o.KeepLogits is not null && o.TargetLogitsOutput is not null && Path.GetFullPath(o.KeepLogits) == Path.GetFullPath(o.TargetLogitsOutput))
            throw GgufOptimizeException.BadInput("--keep-logits and --target-logits-output name the same file; give two files");
        if (o.SampleChunks is < 1) throw GgufOptimizeException.BadInput($"the chunk sample must hold at least 1 chunk (got {o.SampleChunks})");
        if (o.Shard is { } shard && (o.EarlyStopping || o.SampleChunks is not null))
            throw GgufOptimizeException.BadInput($"{ChunkShard.Option} {shard}: early stopping and chunk samples visit the whole range in one random order, which shards cannot split; drop --early-stopping or {ChunkShard.Option}");
        if (o.SkipFirst < 0) throw GgufOptimizeException.BadInput($"--skip-first must be ≥ 0 (got {o.SkipFirst})");
        if (o.EarlyStopping)
        {
            if (!(o.Confidence > 0 && o.Confidence < 1)) throw GgufOptimizeException.BadInput($"--confidence must be between 0 and 1 (got {o.Confidence.ToString(CultureInfo.InvariantCulture)})");
            if (!(o.MarginOfError > 0)) throw GgufOptimizeException.BadInput($"--margin-of-error must be positive (got {o.MarginOfError.ToString(CultureInfo.InvariantCulture)})");
            if (!(o.MarginOfError < 1)) throw GgufOptimizeException.BadInput($"--margin-of-error must be below 1 (got {o.MarginOfError.ToString(CultureInfo.InvariantCulture)})");
            if (o.MinChunks < 2) throw GgufOptimizeException.BadInput($"--min-chunks must be at least 2 (got {o.MinChunks})");
            BootstrapOptions.CheckResamples(o.Resamples, "--resamples");
        }
    }
}
