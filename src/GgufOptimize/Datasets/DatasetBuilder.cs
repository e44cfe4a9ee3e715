using System.Security.Cryptography;
using GgufOptimize.Common;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Selection;

namespace GgufOptimize.Datasets;

/// <summary>
/// Builds calibration / evaluation datasets: streams the sources once, selects per language (see
/// <see cref="LanguageSelector"/>), orders the result so every nested subset keeps the language shares
/// (see <see cref="SubsetPlan"/>), and writes data files plus a manifest atomically.
/// </summary>
/// <remarks>
/// Memory: one sample being read, plus about 150 bytes per held sample (selected and skipped ones, and with
/// <c>--shuffle</c> only those); sample texts wait in a scratch file next to the output. Without <c>--shuffle</c>
/// reading stops as soon as every language has its share.
/// </remarks>
internal static class DatasetBuilder
{
    public static async Task<DatasetManifest> BuildAsync(DatasetRequest request, DatasetOutput output, IProgressSink progress, CancellationToken cancellationToken = default)
    {
        output.Validate();
        using var claim = output.File is not null ? OutputLock.Acquire(output.File, "--output") : OutputLock.Acquire(output.Directory!, "--output-dir");
        if (output.File is not null && request.Subsets is { Count: > 0 }) throw GgufOptimizeException.BadInput("--subsets writes one file per size: use --output-dir");
        string manifestPath = output.ManifestPath;
        var previous = LoadPrevious(output, manifestPath);
        var extraSizes = output.Existing == ExistingOutputMode.Append && output.Directory is not null && previous is not null
            ? previous.Subsets.Select(s => s.Size) : null;
        var plan = SelectionPlan.Create(request, extraSizes);
        var selection = plan.Describe(output.Format);
        string fingerprint = DatasetManifest.FingerprintOf(selection);
        var ours = OwnFinishedOrInterrupted(output, manifestPath, fingerprint);
        CheckExisting(output, manifestPath, plan, previous, fingerprint, ours);

        FileStep.CreateDirectory(output.Folder);
        using var spill = new SpillStore(output.Folder);
        var selectors = Enumerable.Range(0, plan.Groups.Count)
            .Select(i => new LanguageSelector(plan.SkipQuotas[i], plan.Budgets[i], request.Shuffle, request.Deduplicate, spill, request.Tokenizer)).ToArray();
        var scan = new CorpusScan(plan, progress);
        long ordinal = 0;
        await scan.RunAsync(g => !selectors[g].Complete, (g, text, hash) => selectors[g].Offer(text, hash, ordinal++),
            () => !request.Shuffle && selectors.All(s => s.Complete), cancellationToken);

        var selected = selectors.Select(s => s.Finish()).ToList();
        if (selected.All(s => s.Count == 0))
        {
            // A dataset of nothing would look like success and fail far later (an empty imatrix, no chunks to score).
            var issues = scan.IssueWarnings().ToList();
            string why = issues.Count > 0 ? string.Join("; ", issues) : "the sources hold no text";
            throw GgufOptimizeException.BadInput($"no usable sample in {string.Join(", ", scan.Sources.Select(x => x.Record.Description))} ({why}); check --source, --text-field and the filters");
        }
        if (request.Tokenizer is not null && !plan.ByTokens)
            for (int g = 0; g < selected.Count; g++)
                for (int i = 0; i < selected[g].Count; i++)
                    selected[g][i] = selected[g][i] with { Tokens = request.Tokenizer.CountTokens(spill.ReadString(selected[g][i])) };

        var subsetPlan = plan.ByTokens
            ? SubsetPlan.ForTokens(plan.Shares, selected.Select(s => (IReadOnlyList<int>)s.Select(x => x.Tokens).ToList()).ToList(), plan.Sizes)
            : SubsetPlan.ForSamples(plan.Weights, request.SkipSamples, plan.Sizes, selected.Select(s => s.Count).ToList());

        var manifest = new DatasetManifest { Created = DateTimeOffset.UtcNow, Fingerprint = fingerprint, Selection = selection };
        manifest.Sources.AddRange(scan.Sources.Select(s => s.Record));
        manifest.Warnings.AddRange(scan.IssueWarnings());
        for (int g = 0; g < plan.Groups.Count; g++)
            manifest.Languages.Add(DescribeLanguage(plan, g, selectors[g], selected[g], scan, manifest.Warnings));

        var writer = new SubsetFileWriter(spill, selected, plan.Groups, plan.UsesLanguages, output.Format);
        var pending = new List<(string Temp, string Final)>();
        try
        {
            for (int i = 0; i < plan.Sizes.Count; i++)
            {
                string final = output.DataPath(plan.Sizes[i]);
                string temp = AtomicFile.TempName(final);
                pending.Add((temp, final));
                var record = writer.Write(temp, subsetPlan.Order, subsetPlan.Boundaries[i], cancellationToken);
                record.Size = plan.Sizes[i];
                record.File = Path.GetFileName(final);
                manifest.Subsets.Add(record);
            }
            if (output.Existing == ExistingOutputMode.Append && previous is not null) VerifyExtends(previous, manifest, pending, output);
            if (ours is not null && output.Existing == ExistingOutputMode.Refuse)
            {
                // A rerun of a run that finished or was killed while committing: what is there must be what we made.
                for (int i = 0; i < pending.Count; i++)
                    if (File.Exists(pending[i].Final) && Sha256Of(pending[i].Final, long.MaxValue) != manifest.Subsets[i].Sha256)
                        throw GgufOptimizeException.BadInput($"output '{pending[i].Final}' already exists and differs from this selection; use --overwrite to replace it or --append to extend it");
                if (ours.Subsets.Count == manifest.Subsets.Count && pending.All(p => File.Exists(p.Final)) && File.Exists(manifestPath))
                {
                    AtomicFile.TryDelete(CommitPath(manifestPath));
                    progress.Info($"'{manifestPath}' already holds this selection; nothing to do");
                    return ours;
                }
            }
            Commit(pending, manifest, manifestPath, output, previous);
        }
        finally
        {
            foreach (var (temp, _) in pending) AtomicFile.TryDelete(temp);
        }
        foreach (var warning in manifest.Warnings) progress.Warn(warning);
        return manifest;
    }

    /// <summary>Reads every source to the end and reports what is available per language; writes nothing.</summary>
    public static async Task<AvailabilityReport> CountAsync(DatasetRequest request, IProgressSink progress, CancellationToken cancellationToken = default)
    {
        var plan = SelectionPlan.Create(request);
        var groups = plan.Groups.Select(g => new LanguageAvailability { Language = g }).ToArray();
        // Exact distinct counts need every hash: 16 bytes (plus set overhead) per distinct sample.
        var seen = plan.Groups.Select(_ => new HashSet<UInt128>()).ToArray();
        var scan = new CorpusScan(plan, progress);
        await scan.RunAsync(_ => true, (g, text, hash) =>
        {
            var a = groups[g];
            if (request.Deduplicate && !seen[g].Add(hash))
            {
                a.Duplicates++;
                return;
            }
            a.Samples++;
            a.Chars += text.Chars;
            if (request.Tokenizer is not null) a.Tokens = (a.Tokens ?? 0) + request.Tokenizer.CountTokens(text.Text);
        }, () => false, cancellationToken);
        var report = new AvailabilityReport { Unit = plan.ByTokens ? "tokens" : "samples" };
        report.Sources.AddRange(scan.Sources.Select(s => s.Record));
        report.Warnings.AddRange(scan.IssueWarnings());
        for (int g = 0; g < groups.Length; g++)
        {
            var a = groups[g];
            a.TooShort = scan.TooShort[g];
            a.TooLong = scan.TooLong[g];
            a.SkipSamples = plan.SkipQuotas[g];
            a.Requested = plan.ByTokens ? (long)Math.Ceiling(plan.Budgets[g].Tokens) : plan.Budgets[g].Samples;
            a.Enough = plan.ByTokens ? a.Samples > a.SkipSamples && (a.Tokens ?? 0) >= a.Requested : a.Samples >= a.SkipSamples + a.Requested;
            report.Languages.Add(a);
        }
        return report;
    }

    private static LanguageRecord DescribeLanguage(SelectionPlan plan, int g, LanguageSelector selector, List<HeldSample> selected, CorpusScan scan, List<string> warnings)
    {
        var budget = plan.Budgets[g];
        long tokens = selected.Sum(s => (long)Math.Max(s.Tokens, 0));
        var record = new LanguageRecord
        {
            Language = plan.Groups[g],
            Weight = plan.Weights[g],
            Requested = budget.ByTokens ? (long)Math.Ceiling(budget.Tokens) : budget.Samples,
            Selected = selected.Count,
            SelectedChars = selected.Sum(s => (long)s.Chars),
            SelectedTokens = plan.Request.Tokenizer is null ? null : tokens,
            Skipped = selector.Skipped,
            Candidates = selector.Candidates,
            Duplicates = selector.Duplicates,
            TooShort = scan.TooShort[g],
            TooLong = scan.TooLong[g],
        };
        bool shortOfSkip = selector.Skipped < plan.SkipQuotas[g];
        record.Shortfall = shortOfSkip || (budget.ByTokens ? tokens < budget.Tokens : selected.Count < budget.Samples);
        if (record.Shortfall)
        {
            string unit = budget.ByTokens ? "tokens" : "samples";
            long have = budget.ByTokens ? tokens : selected.Count;
            string skipped = plan.SkipQuotas[g] > 0 ? $" after skipping {selector.Skipped} of {plan.SkipQuotas[g]}" : "";
            warnings.Add($"language '{record.Language}': only {have} {unit} available{skipped}, {record.Requested} requested; using what exists");
        }
        return record;
    }

    private static DatasetManifest? LoadPrevious(DatasetOutput output, string manifestPath)
    {
        if (output.Existing == ExistingOutputMode.Refuse || !File.Exists(manifestPath)) return null;
        if (output.Existing == ExistingOutputMode.Append) return DatasetManifest.Load(manifestPath);
        try
        {
            return DatasetManifest.Load(manifestPath);
        }
        catch (GgufOptimizeException)
        {
            return null; // overwriting an unreadable manifest: nothing to clean up from it
        }
    }

    /// <summary>The commit record next to the manifest: present only while data files are being renamed into place.</summary>
    private static string CommitPath(string manifestPath) => manifestPath + ".commit";

    /// <summary>
    /// The manifest of a run of this very selection that finished, or that was killed while its files were being
    /// renamed into place (its commit record says so); null otherwise. Its files are ours to compare and replace.
    /// </summary>
    private static DatasetManifest? OwnFinishedOrInterrupted(DatasetOutput output, string manifestPath, string fingerprint)
    {
        foreach (var path in new[] { CommitPath(manifestPath), manifestPath })
        {
            if (!File.Exists(path)) continue;
            try
            {
                var manifest = DatasetManifest.Load(path);
                if (manifest.Fingerprint == fingerprint) return manifest;
            }
            catch (GgufOptimizeException) { }
        }
        return null;
    }

    private static void CheckExisting(DatasetOutput output, string manifestPath, SelectionPlan plan, DatasetManifest? previous, string fingerprint, DatasetManifest? ours)
    {
        var existing = plan.Sizes.Select(output.DataPath).Append(manifestPath).Where(File.Exists).ToList();
        switch (output.Existing)
        {
            case ExistingOutputMode.Refuse when existing.Count > 0 && ours is null:
                throw GgufOptimizeException.BadInput($"output '{existing[0]}' already exists; use --overwrite to replace it or --append to extend it");
            case ExistingOutputMode.Append when previous is null && existing.Count > 0:
                throw GgufOptimizeException.BadInput($"'{existing[0]}' exists without a manifest ({manifestPath}), so it cannot be extended; use --overwrite");
            case ExistingOutputMode.Append when previous is not null && previous.Fingerprint != fingerprint:
                throw GgufOptimizeException.BadInput(
                    $"'{manifestPath}' records a different selection (sources, languages, filters, shuffle/seed or format differ), so --append cannot extend it; use --overwrite or another output");
        }
    }

    /// <summary>--append: the existing files must be untouched and must be where the new files begin.</summary>
    private static void VerifyExtends(DatasetManifest previous, DatasetManifest manifest, List<(string Temp, string Final)> pending, DatasetOutput output)
    {
        foreach (var old in previous.Subsets)
        {
            int index = manifest.Subsets.FindIndex(s => s.File == old.File);
            string existing = Path.Combine(output.Folder, old.File);
            if (index < 0)
                throw GgufOptimizeException.BadInput($"--append would drop '{existing}' (size {old.Size}); ask for at least size {old.Size}");
            if (File.Exists(existing) && Sha256Of(existing, long.MaxValue) != old.Sha256)
                throw GgufOptimizeException.BadInput($"'{existing}' was changed after its manifest was written; use --overwrite");
            var fresh = manifest.Subsets[index];
            if (fresh.Bytes < old.Bytes || Sha256Of(pending[index].Temp, old.Bytes) != old.Sha256)
                throw GgufOptimizeException.BadInput(
                    $"the new selection does not begin with the existing '{existing}' (did the sources change, or is the new size smaller?); use --overwrite or another output");
        }
    }

    private static void Commit(List<(string Temp, string Final)> pending, DatasetManifest manifest, string manifestPath, DatasetOutput output, DatasetManifest? previous)
    {
        // Without its manifest a data file does not look finished, so the manifest goes first and comes back last.
        // The commit record (the new manifest) says, while it exists, that the data files are this run's to
        // replace: a run killed between the renames is completed by the next one, never refused.
        string commit = CommitPath(manifestPath);
        AtomicFile.WriteAllText(commit, manifest.ToJson());
        AtomicFile.TryDelete(manifestPath);
        foreach (var (temp, final) in pending) FileStep.Move(temp, final, overwrite: true);
        AtomicFile.WriteAllText(manifestPath, manifest.ToJson());
        AtomicFile.TryDelete(commit);
        if (previous is not null && output.Directory is not null)
            foreach (var stale in previous.Subsets.Select(s => s.File).Except(manifest.Subsets.Select(s => s.File)))
                if (Path.GetFileName(stale) == stale) AtomicFile.TryDelete(Path.Combine(output.Directory, stale));
    }

    private static string Sha256Of(string path, long length)
    {
        using var stream = File.OpenRead(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long left = length;
        while (left > 0)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) break;
            hash.AppendData(buffer, 0, n);
            left -= n;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

}
