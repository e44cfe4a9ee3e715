using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Imatrix;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Reporting;
using GgufOptimize.Storage;

namespace GgufOptimize.Workflow;

/// <summary>
/// The iterative method in one run: baseline logits once; every type quantized without an imatrix and compared
/// (iteration 0); then for each calibration subset in order, the imatrix extended with only the new chunks, every
/// type still improving quantized with it and compared; a type stops when the paired bootstrap says the last step
/// did not pay off (<see cref="StoppingRule"/>). Every step is recorded in <see cref="IterationState"/>, so a killed
/// run continues where it stopped.
/// </summary>
internal static class IterationLoop
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<IterationResult> RunAsync(IterationPlan plan, IProgressSink progress, CancellationToken ct = default)
    {
        var resolved = ResolvedPlan.Check(plan, progress);
        using var claim = OutputLock.Acquire(resolved.Output, "--output");
        var run = new Run(resolved, IterationState.Open(resolved.Output), progress, ct);
        return await run.ExecuteAsync();
    }

    private sealed class Run(ResolvedPlan r, IterationState state, IProgressSink progress, CancellationToken ct)
    {
        private readonly IterationPlan _p = r.Plan;
        private readonly List<string> _notes = [];
        private int _reused, _ran;

        public async Task<IterationResult> ExecuteAsync()
        {
            var (baselinePath, baselineId, totalChunks) = Baseline();
            var calibration = await Calibration();
            var bootstrap = new BootstrapOptions(_p.Resamples, _p.Confidence, _p.Seed, Hardware.PhysicalCores);
            var stopping = new StoppingOptions(_p.MinImprovement, bootstrap);
            int evalTo = _p.EvalChunks > 0 ? Math.Min(_p.EvalChunks, totalChunks) : totalChunks;
            int? sample = null;
            bool compared = false;

            var history = r.Types.ToDictionary(t => t.Name, _ => new List<(IterationOutcome Outcome, IReadOnlyList<ChunkResult> Chunks)>());
            var stopReasons = new Dictionary<string, string>();
            var active = r.Types.ToList();
            string? previousImatrix = null;
            int previousEnd = 0;

            for (int k = 0; k <= calibration.Subsets.Count && active.Count > 0; k++)
            {
                ct.ThrowIfCancellationRequested();
                var subset = k == 0 ? null : calibration.Subsets[k - 1];
                string? imatrix = null;
                if (subset is not null)
                {
                    imatrix = Imatrix(k, subset, calibration, previousImatrix, previousEnd);
                    previousImatrix = imatrix;
                    previousEnd = subset.ChunkEnd;
                }
                foreach (var type in active.ToList())
                {
                    if (k == 0 && type.NeedsImatrix)
                    {
                        _notes.Add($"{type.Name} needs an importance matrix: it starts at iteration 1");
                        continue;
                    }
                    string label = $"{type.Name} iteration {k} ({subset?.Label ?? "no imatrix"})";
                    string quantized = Quantize(type, k, subset, imatrix, label);
                    bool first = !compared;
                    var (cmp, chunks) = Compare(type, k, subset, quantized, baselinePath, baselineId, evalTo, first && _p.EarlyStopping, sample, label);
                    if (first)
                    {
                        compared = true;
                        // Early stopping compares a seeded random sample of the chunks; later comparisons take the same sample.
                        if (_p.EarlyStopping && chunks.Count < evalTo)
                        {
                            sample = chunks.Count;
                            _notes.Add($"early stopping: the first comparison needed {chunks.Count} of {evalTo} chunks (a seeded random sample); every comparison is scored on the same chunks");
                        }
                    }

                    var past = history[type.Name];
                    StepDecision? decision = past.Count == 0 ? null : StoppingRule.Decide(past[^1].Chunks, chunks, stopping);
                    var outcome = new IterationOutcome(type.Name, k, subset, quantized, cmp, KldStatistics.Compute(chunks), decision);
                    past.Add((outcome, chunks));
                    progress.Info($"{label}: Score {outcome.Overall.Score.ToString("G5", Inv)}" + (decision is null ? "" : $"; {decision.Reason}"));
                    if (decision is { Continue: false })
                    {
                        stopReasons[type.Name] = $"stopped after iteration {k} ({subset?.Label ?? "no imatrix"}): {decision.Reason}";
                        active.Remove(type);
                    }
                }
            }
            foreach (var type in active)
                stopReasons[type.Name] = calibration.Subsets.Count == 0
                    ? "no calibration subset to try"
                    : $"the calibration subsets are exhausted (last: {calibration.Subsets[^1].Label})";

            var outcomes = r.Types.Where(t => history[t.Name].Count > 0).Select(t =>
            {
                var h = history[t.Name];
                var best = StoppingRule.Best(h.Select(x => x.Chunks).ToList(), bootstrap, h.Select(x => x.Outcome.Iteration).ToList());
                return new TypeOutcome(t.Name, h.Select(x => x.Outcome).ToList(), stopReasons[t.Name], best);
            }).ToList();

            string reportFolder = Path.Combine(r.Output, "report");
            var files = outcomes.SelectMany(o => o.Iterations.Select(i => i.ComparisonFile)).ToList();
            string? sensitivity = r.Types.Select(t => t.SensitivityTable()).FirstOrDefault(t => t is not null);
            IterationReportWriter.Write(files, reportFolder, new ReportOptions { Bootstrap = bootstrap, MinImprovement = _p.MinImprovement, SensitivityPath = sensitivity },
                $"gguf-optimize iterate: {Path.GetFileName(r.Model)}");

            return new IterationResult
            {
                OutputFolder = r.Output,
                Types = outcomes,
                EvaluationChunks = sample ?? evalTo,
                Notes = _notes.Concat(calibration.Notes).Distinct().ToList(),
                StepsReused = _reused,
                StepsRun = _ran,
                ReportFolder = reportFolder,
            };
        }

        /// <summary>Non-default engine settings change every model run's results, so they are part of each step's inputs.</summary>
        private string EngineKey => _p.Engine.LogitsKey() is { Length: > 0 } key ? $"|engine {key}" : "";

        private (string Path, string Identity, int TotalChunks) Baseline()
        {
            if (r.BaselineLogits is { } given)
                return (Path.GetFullPath(given), r.ReusedBaseline!.Identity, r.ReusedBaseline.TotalChunks);
            const string file = "baseline.h5";
            string inputs = $"logits|{r.ModelIdentity.Sha256}|{r.DatasetSha256}|ctx {r.ContextSize}|to {(_p.EvalChunks > 0 ? _p.EvalChunks : "all")}{EngineKey}";
            Step("baseline", inputs, [file], [file, BaselineLayout.PartialPath(file)], "baseline logits", () =>
            {
                LogitsJob.Run(new LogitsJobOptions
                {
                    ModelPath = r.Model, DatasetPath = _p.Dataset!, OutputPath = state.FullPath(file), ContextSize = r.ContextSize,
                    ToChunk = _p.EvalChunks > 0 ? _p.EvalChunks : null, ToChunkOption = "--eval-chunks", Threads = _p.Threads, Engine = _p.Engine, Clobber = true,
                }, progress, ct);
                return null;
            }, hash: false);
            var own = ReusedBaseline.Open(state.FullPath(file));
            return (state.FullPath(file), own.Identity, own.TotalChunks);
        }

        private async Task<CalibrationData> Calibration()
        {
            string text;
            if (_p.CalibrationUnit == CalibrationUnit.Samples)
            {
                var spec = Datasets.Sources.SourceSpec.Parse(_p.Calibration!, Datasets.Sources.DatasetSourceKinds.Kinds);
                string sourceId = File.Exists(spec.Location) ? Chunking.ModelIdentity.Of(spec.Location).Sha256 : spec.Location;
                var o = CalibrationSubsets.SubsetOptions(_p);
                string inputs = $"calibration|{spec}|{sourceId}|{string.Join(',', _p.SubsetSizes)}|langs {string.Join(',', o.Languages ?? [])}|text {o.TextField}|lang {o.LanguageField}|shuffle {o.Shuffle} {o.Seed}";
                var outputs = _p.SubsetSizes.Select(s => Path.Combine(CalibrationSubsets.Folder, $"subset-{s.ToString(Inv)}.txt")).ToList();
                var done = state.Finished("calibration", inputs);
                if (done is null)
                {
                    state.Begin("calibration", inputs, () => DeletePath(state.FullPath(CalibrationSubsets.Folder)));
                    progress.Info("selecting calibration subsets");
                    await CalibrationSubsets.PrepareTextAsync(_p, r.Output, progress, ct);
                    state.Complete("calibration", inputs, outputs.Append(Path.Combine(CalibrationSubsets.Folder, "manifest.json")));
                    _ran++;
                }
                else _reused++;
                text = state.FullPath(outputs[^1]);
            }
            else text = await CalibrationSubsets.PrepareTextAsync(_p, r.Output, progress, ct);

            using var model = LlamaModel.Load(r.Model, _p.Engine);
            return CalibrationSubsets.Plan(_p, text, model, r.ContextSize);
        }

        private string Imatrix(int k, CalibrationSubset subset, CalibrationData calibration, string? previous, int previousEnd)
        {
            string file = Path.Combine("imatrix", $"imatrix-{subset.Tag}.gguf");
            string previousId = previous is null ? "none" : Chunking.ModelIdentity.Of(previous).Sha256;
            string inputs = $"imatrix|{r.ModelIdentity.Sha256}|{calibration.Sha256}|ctx {r.ContextSize}|chunks {previousEnd}..{subset.ChunkEnd}|in {previousId}{EngineKey}";
            Step($"imatrix/{k}", inputs, [file], [file, file + ".resume"], $"imatrix {subset.Label} (chunks {previousEnd}..{subset.ChunkEnd - 1})", () =>
            {
                FileStep.CreateDirectory(state.FullPath("imatrix"));
                ImatrixBuilder.Run(new ImatrixOptions
                {
                    ModelPath = r.Model, DatasetPath = calibration.TextPath, OutputPath = state.FullPath(file),
                    InFiles = previous is null ? [] : [previous], FromChunk = previousEnd, Chunks = subset.ChunkEnd - previousEnd,
                    ContextSize = r.ContextSize, Threads = _p.Threads, Engine = _p.Engine, SaveFrequency = 4,
                }, progress, ct);
                return null;
            });
            return state.FullPath(file);
        }

        private string Quantize(IterationEntry type, int k, CalibrationSubset? subset, string? imatrix, string label)
        {
            string name = OutputNaming.FileName(r.Name, type.Type, subset?.Tag);
            string file = Path.Combine("quant", name);
            string imatrixId = imatrix is null ? "none" : Chunking.ModelIdentity.Of(imatrix).Sha256;
            string inputs = $"quantize|{r.ModelIdentity.Sha256}|{type.Name}|imatrix {imatrixId}{type.RulesKey}";
            Step($"quantize/{type.Name}/{k}", inputs, [file], [file, file + ".partial"], $"{label}: quantize", () =>
            {
                ModelQuantizer.Run(new QuantizeOptions
                {
                    ModelPath = r.Model, Types = [type.Type], TensorTypes = type.Rules, OutputDirectory = state.FullPath("quant"), Name = r.Name,
                    ImatrixPath = imatrix, ImatrixTag = subset?.Tag, Threads = _p.Threads,
                }, progress, ct);
                return null;
            });
            return state.FullPath(file);
        }

        private (string File, IReadOnlyList<ChunkResult> Chunks) Compare(IterationEntry type, int k, CalibrationSubset? subset, string quantized,
            string baseline, string baselineId, int toChunk, bool earlyStopping, int? sample, string label)
        {
            string file = Path.Combine("cmp", $"cmp_{type.Name}_{k}_{subset?.Tag ?? "none"}.h5");
            string early = earlyStopping ? $"|early {_p.Confidence.ToString(Inv)} {_p.MarginOfError.ToString(Inv)} {_p.MinChunks} {_p.Resamples} {_p.Seed}" : "";
            string sampled = sample is { } n ? $"|sample {n} seed {_p.Seed}" : "";
            string inputs = $"kld|{baselineId}|{Chunking.ModelIdentity.Of(quantized).Sha256}|chunks 0..{toChunk}{sampled}|skip {_p.SkipFirst}{early}|{type.Name}|{k}|{subset?.Label}{EngineKey}";
            Step($"kld/{type.Name}/{k}", inputs, [file], [file, KldChunkStore.PartsDirectory(file)], $"{label}: compare", () =>
            {
                FileStep.CreateDirectory(state.FullPath("cmp"));
                string path = state.FullPath(file);
                KldJob.Run(new KldJobOptions
                {
                    BaselineLogits = baseline, TargetModel = quantized, OutputFile = path, ToChunk = toChunk, SkipFirst = _p.SkipFirst,
                    EarlyStopping = earlyStopping, Confidence = _p.Confidence, MarginOfError = _p.MarginOfError, MinChunks = _p.MinChunks,
                    Resamples = _p.Resamples, Seed = _p.Seed, SampleChunks = sample, Threads = _p.Threads, Engine = _p.Engine, Clobber = true,
                    Labels = new ComparisonLabels
                    {
                        Type = type.Name,
                        Calibration = subset?.Label ?? "none",
                        Iteration = k,
                        CalibrationSize = subset?.Size ?? 0,
                        CalibrationTokens = subset?.TextTokens ?? 0,
                    },
                }, progress, ct);
                return null;
            });
            var contents = KldOutputFile.Read(state.FullPath(file));
            return (state.FullPath(file), contents.Chunks);
        }

        /// <summary>Reuses a finished step, or runs it (resuming its own partial files when it was interrupted).</summary>
        private void Step(string key, string inputs, string[] outputs, string[] discard, string what, Func<IReadOnlyDictionary<string, double>?> body,
            bool hash = true)
        {
            ct.ThrowIfCancellationRequested();
            if (state.Finished(key, inputs) is not null)
            {
                _reused++;
                return;
            }
            bool resuming = state.Begin(key, inputs, () => { foreach (var d in discard) DeletePath(state.FullPath(d)); });
            progress.Info(resuming ? $"{what} (resuming)" : what);
            var values = body();
            state.Complete(key, inputs, outputs, values, hash);
            _ran++;
        }

        private static void DeletePath(string path)
        {
            if (Directory.Exists(path)) FileStep.DeleteDirectory(path);
            else FileStep.Delete(path);
        }
    }
}
