using GgufOptimize.Common;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Selection;

namespace GgufOptimize.Datasets;

/// <summary>A validated <see cref="DatasetRequest"/>: group names, weights, unit, sizes and per-language quotas.</summary>
internal sealed class SelectionPlan
{
    public const string AllLanguages = "*";
    /// <summary>Far beyond any corpus, small enough that sizes times languages cannot overflow.</summary>
    private const long MaxSize = 1L << 40;

    private SelectionPlan(DatasetRequest request, List<string> groups, double[] weights, bool byTokens, List<long> sizes)
    {
        Request = request;
        Groups = groups;
        Weights = weights;
        ByTokens = byTokens;
        Sizes = sizes;
        double total = weights.Sum();
        Shares = weights.Select(w => w / total).ToArray();
        long languages = groups.Count;
        var skip = SeatSequence.Allocate(weights, request.SkipSamples * languages);
        SkipQuotas = skip.Select(s => checked((int)s)).ToArray();
        var through = SeatSequence.Allocate(weights, (request.SkipSamples + Size) * languages);
        Budgets = Enumerable.Range(0, groups.Count)
            .Select(i => byTokens ? SelectionBudget.OfTokens(Size * Shares[i]) : SelectionBudget.OfSamples(through[i] - skip[i])).ToArray();
    }

    public DatasetRequest Request { get; }
    public IReadOnlyList<string> Groups { get; }
    public bool UsesLanguages => Request.Languages is not null;
    public double[] Weights { get; }
    public double[] Shares { get; }
    public bool ByTokens { get; }
    /// <summary>Nested subset sizes, ascending; the last is the whole selection.</summary>
    public IReadOnlyList<long> Sizes { get; }
    public long Size => Sizes[^1];
    public int[] SkipQuotas { get; }
    public SelectionBudget[] Budgets { get; }

    public static SelectionPlan Create(DatasetRequest request, IEnumerable<long>? extraSizes = null)
    {
        if (request.Sources.Count == 0) throw GgufOptimizeException.BadInput("no --source given");
        List<string> groups;
        if (request.Languages is { } langs)
        {
            groups = langs.Select(l => l.Trim()).ToList();
            if (groups.Count == 0 || groups.Any(g => g.Length == 0)) throw GgufOptimizeException.BadInput("--langs is empty or has an empty entry");
            var duplicate = groups.GroupBy(g => g, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw GgufOptimizeException.BadInput($"--langs names '{duplicate.Key}' twice");
            foreach (var source in request.Sources)
                if (!source.ProvidesLanguage)
                    throw GgufOptimizeException.BadInput($"source '{source.Description}' has no language: give --lang-field or tag it (e.g. text@en:path)");
        }
        else
        {
            if (request.Weights is { Count: > 0 }) throw GgufOptimizeException.BadInput("--weights needs --langs");
            groups = [AllLanguages];
        }
        var weights = groups.Select(g => 1.0).ToArray();
        foreach (var (language, weight) in request.Weights ?? new Dictionary<string, double>())
        {
            int index = groups.FindIndex(g => string.Equals(g, language, StringComparison.OrdinalIgnoreCase));
            if (index < 0) throw GgufOptimizeException.BadInput($"--weights names '{language}', which is not in --langs");
            if (!(weight > 0) || double.IsInfinity(weight)) throw GgufOptimizeException.BadInput($"--weights for '{language}' must be a positive number");
            weights[index] = weight;
        }

        bool byTokens = request.NumTokens is not null;
        if (byTokens && request.NumSamples is not null) throw GgufOptimizeException.BadInput("give --num-samples or --num-tokens, not both");
        if (byTokens && request.Tokenizer is null) throw GgufOptimizeException.BadInput("--num-tokens needs --model (token counts come from the model's tokenizer)");
        long? size = byTokens ? request.NumTokens : request.NumSamples;
        string unit = byTokens ? "--num-tokens" : "--num-samples";
        var sizes = (request.Subsets ?? []).Concat(extraSizes ?? []).ToList();
        if (sizes.Any(s => s <= 0)) throw GgufOptimizeException.BadInput("--subsets sizes must be positive");
        if (sizes.Concat(size is { } sz ? [sz] : []).Any(s => s > MaxSize) || request.SkipSamples > MaxSize)
            throw GgufOptimizeException.BadInput($"sizes and --skip-samples must not exceed {MaxSize}");
        if (request.Subsets is { Count: > 0 } && size is { } n && request.Subsets.Max() != n)
            throw GgufOptimizeException.BadInput($"the largest of --subsets ({request.Subsets.Max()}) must equal {unit} ({n})");
        if (size is { } total) sizes.Add(total);
        if (sizes.Count == 0) throw GgufOptimizeException.BadInput("give --num-samples, --num-tokens or --subsets");
        sizes = sizes.Distinct().Order().ToList();
        if (size is { } s2 && s2 <= 0) throw GgufOptimizeException.BadInput($"{unit} must be positive");
        if (request.SkipSamples < 0) throw GgufOptimizeException.BadInput("--skip-samples must not be negative");
        if (request.MinChars < 0) throw GgufOptimizeException.BadInput("--min-chars must not be negative");
        if (request.MaxChars is { } max && max < Math.Max(1, request.MinChars)) throw GgufOptimizeException.BadInput("--max-chars must be at least --min-chars and positive");
        return new SelectionPlan(request, groups, weights, byTokens, sizes);
    }

    /// <summary>Index of the group a sample's language belongs to, or -1 when not asked for.</summary>
    public int GroupOf(string? language, Dictionary<string, int> lookup)
    {
        if (!UsesLanguages) return 0;
        return language is not null && lookup.TryGetValue(language.Trim(), out int index) ? index : -1;
    }

    public Dictionary<string, int> GroupLookup() =>
        Groups.Select((g, i) => (g, i)).ToDictionary(x => x.g, x => x.i, StringComparer.OrdinalIgnoreCase);

    public SelectionRecord Describe(DatasetFormat format) => new()
    {
        Sources = Request.Sources.Select(s => s.Description).ToList(),
        Languages = UsesLanguages ? [.. Groups] : null,
        Weights = Request.Weights is { Count: > 0 } ? Groups.Select((g, i) => (g, Weights[i])).ToDictionary(x => x.g, x => x.Item2) : null,
        Unit = ByTokens ? "tokens" : "samples",
        Size = Size,
        SkipSamples = Request.SkipSamples,
        MinChars = Request.MinChars,
        MaxChars = Request.MaxChars,
        Deduplicate = Request.Deduplicate,
        Shuffle = Request.Shuffle,
        Seed = Request.Shuffle ? Request.Seed : null,
        InvalidUtf8 = Request.InvalidUtf8.ToString().ToLowerInvariant(),
        MaxSampleBytes = Request.MaxSampleBytes,
        Tokenizer = Request.Tokenizer?.Identity,
        Format = format.ToString().ToLowerInvariant(),
    };
}
