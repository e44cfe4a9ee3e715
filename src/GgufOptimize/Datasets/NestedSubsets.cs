using GgufOptimize.Common;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Sources;

namespace GgufOptimize.Datasets;

/// <summary>Options of <see cref="NestedSubsets.CreateAsync"/>; the defaults suit a single-language text corpus.</summary>
internal sealed record NestedSubsetOptions
{
    /// <summary>Languages to balance (needs <see cref="LanguageField"/> for JSONL); null: one group.</summary>
    public IReadOnlyList<string>? Languages { get; init; }
    public string TextField { get; init; } = "text";
    public string? LanguageField { get; init; }
    public TextSplit Split { get; init; } = TextSplit.Paragraph;
    public bool Shuffle { get; init; }
    public long Seed { get; init; }
    public DatasetFormat Format { get; init; } = DatasetFormat.Text;
    /// <summary>Append (the default) creates the folder or extends an earlier run of the same selection with more sizes.</summary>
    public ExistingOutputMode Existing { get; init; } = ExistingOutputMode.Append;
}

/// <summary>
/// The entry point the iterative imatrix loop uses: from a text or JSONL corpus, write nested subsets
/// (<c>subset-{size}.txt</c>, each a prefix of the next) and a manifest into a folder. Calling it again with more
/// sizes only adds data; the earlier files stay byte-identical.
/// </summary>
internal static class NestedSubsets
{
    /// <param name="source">A text file or folder, a .jsonl/.json file, or any <c>kind[@lang]:location</c> source spec.</param>
    /// <param name="sizes">Subset sizes in samples (per language at equal weight).</param>
    public static Task<DatasetManifest> CreateAsync(string source, IReadOnlyList<long> sizes, string outputDirectory,
        NestedSubsetOptions? options = null, IProgressSink? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new NestedSubsetOptions();
        if (sizes.Count == 0) throw GgufOptimizeException.BadInput("no subset sizes given");
        var settings = new SourceSettings { TextField = options.TextField, LanguageField = options.LanguageField, Split = options.Split };
        var request = new DatasetRequest
        {
            Sources = [DatasetSourceKinds.Create(source, settings)],
            Languages = options.Languages,
            Subsets = sizes,
            Shuffle = options.Shuffle,
            Seed = options.Seed,
        };
        return DatasetBuilder.BuildAsync(request, DatasetOutput.ToDirectory(outputDirectory, options.Format, options.Existing),
            progress ?? NullProgress.Instance, cancellationToken);
    }

    /// <summary>Full paths of the subset files in a manifest written to <paramref name="outputDirectory"/>, smallest first.</summary>
    public static IReadOnlyList<string> Files(DatasetManifest manifest, string outputDirectory) =>
        manifest.Subsets.OrderBy(s => s.Size).Select(s => Path.Combine(outputDirectory, s.File)).ToList();
}
