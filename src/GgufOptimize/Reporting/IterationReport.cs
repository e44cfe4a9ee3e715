using GgufOptimize.Metrics;

namespace GgufOptimize.Reporting;

/// <summary>How the report judges intervals and changes (the same settings as the loop's stopping rule).</summary>
internal sealed record ReportOptions
{
    public BootstrapOptions Bootstrap { get; init; } = new();
    public double MinImprovement { get; init; } = 0.01;
    /// <summary>A sensitivity table (from <c>sensitivity</c>) whose heat maps the report shows; null = none.</summary>
    public string? SensitivityPath { get; init; }
}

/// <summary>One comparison in the table: a type at one calibration size.</summary>
internal sealed record ReportRow
{
    public required ComparisonData Data { get; init; }
    /// <summary>The type the row is grouped under ("unknown type" when neither attributes nor the target name tell).</summary>
    public required string Type { get; init; }
    public required int Iteration { get; init; }
    public required string Calibration { get; init; }
    /// <summary>Bootstrap interval of the Score (per-token data needed).</summary>
    public ScoreInterval? Interval { get; init; }
    /// <summary>Paired comparison with the row before it of the same type (per-token data needed on both).</summary>
    public StepDecision? VersusPrevious { get; init; }
    public bool IsBest { get; set; }
}

/// <summary>The rows of one type, which is best and why the growth of the calibration data stopped.</summary>
/// <param name="Reference">Which row is the reference step (the first) and why, in words.</param>
internal sealed record TypeSection(string Type, IReadOnlyList<ReportRow> Rows, BestChoice Best, string Verdict, string Reference);

/// <summary>
/// The report over any set of comparison files: grouped and ordered by <see cref="ComparisonOrder"/> (what the files
/// record, never the order they were given in), with the Score's interval and the paired change against the previous
/// step, as the loop judged it, and the conclusions in words.
/// </summary>
internal sealed class IterationReport
{
    public IReadOnlyList<TypeSection> Types { get; }
    public IReadOnlyList<string> Notes { get; }
    /// <summary>The bottom line of every type and the explanation of anything surprising, one sentence each.</summary>
    public IReadOnlyList<string> Conclusions { get; }
    /// <summary>The baseline model and the evaluation text every comparison was measured against, in words.</summary>
    public string Baseline { get; }
    public ReportOptions Options { get; }

    private IterationReport(IReadOnlyList<TypeSection> types, IReadOnlyList<string> notes, string baseline, ReportOptions options)
    {
        Types = types;
        Notes = notes;
        Baseline = baseline;
        Options = options;
        Conclusions = ReportConclusions.Of(types);
    }

    public IEnumerable<ReportRow> Rows => Types.SelectMany(t => t.Rows);

    public static IterationReport Build(IReadOnlyList<ComparisonData> comparisons, ReportOptions options)
    {
        var notes = new List<string>();
        var stopping = new StoppingOptions(options.MinImprovement, options.Bootstrap);
        var sections = new List<TypeSection>();
        foreach (var (type, ordered) in ComparisonOrder.Arrange(comparisons))
        {
            var numbers = ComparisonOrder.Iterations(ordered);
            var rows = new List<ReportRow>();
            for (int i = 0; i < ordered.Count; i++)
            {
                var c = ordered[i];
                var previous = i > 0 ? ordered[i - 1] : null;
                rows.Add(new ReportRow
                {
                    Data = c,
                    Type = type,
                    Iteration = numbers[i],
                    Calibration = c.Calibration ?? "?",
                    Interval = c.Chunks is { Count: > 0 } chunks ? BlockBootstrap.ScoreInterval(chunks, options.Bootstrap) : null,
                    VersusPrevious = previous?.Chunks is { Count: > 0 } a && c.Chunks is { Count: > 0 } b ? StoppingRule.Decide(a, b, stopping) : null,
                });
            }
            var best = ChooseBest(rows, options.Bootstrap);
            rows.First(r => r.Iteration == best.Iteration).IsBest = true;
            sections.Add(new TypeSection(type, rows, best, Verdict(rows), ComparisonOrder.Reference(type, ordered)));
        }
        if (comparisons.Any(c => c.FromPythonTool))
            notes.Add("files of llama-gguf-optimize hold statistics only: no Score intervals, paired changes or exact KLD distributions for them (their CDF is drawn through the stored percentiles)");
        return new IterationReport(sections, notes, DescribeBaseline(comparisons), options);
    }

    /// <summary>"model m.gguf, evaluation text wiki.txt (n_ctx 512, 40 chunks)", from what the files record.</summary>
    private static string DescribeBaseline(IReadOnlyList<ComparisonData> comparisons)
    {
        static string Names(IEnumerable<string?> names, string unknown)
        {
            var known = names.OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
            return known.Count == 0 ? unknown : string.Join(", ", known);
        }
        string model = Names(comparisons.Select(c => c.Baseline), "not recorded");
        string text = Names(comparisons.Select(c => c.Dataset), "not recorded");
        var contexts = comparisons.Select(c => c.ContextSize).OfType<int>().Distinct().ToList();
        int chunks = comparisons.Max(c => c.ChunkScores.Count);
        string details = (contexts.Count == 1 ? $"chunks of {contexts[0]} tokens, " : "") + $"up to {chunks} chunks per comparison";
        return $"baseline {model}; evaluation text {text} ({details})";
    }

    private static BestChoice ChooseBest(IReadOnlyList<ReportRow> rows, BootstrapOptions bootstrap)
    {
        if (rows.All(r => r.Data.Chunks is { Count: > 0 }))
        {
            return StoppingRule.Best(rows.Select(r => r.Data.Chunks!).ToList(), bootstrap, rows.Select(r => r.Iteration).ToList());
        }
        var lowest = rows.Where(r => double.IsFinite(r.Data.Score)).MinBy(r => r.Data.Score) ?? rows[0];
        return new BestChoice(lowest.Iteration, lowest.Iteration, "lowest Score (no per-token data for a significance test)");
    }

    private static string Verdict(IReadOnlyList<ReportRow> rows)
    {
        var last = rows[^1];
        if (rows.Count == 1) return "one iteration only";
        if (last.VersusPrevious is null) return "no per-token data to judge the last step";
        return last.VersusPrevious.Continue
            ? $"still improving at the last iteration ({last.Calibration}): {last.VersusPrevious.Reason}"
            : $"stopped after iteration {last.Iteration} ({last.Calibration}): {last.VersusPrevious.Reason}";
    }
}
