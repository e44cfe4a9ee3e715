using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Output;

/// <summary>
/// Where a dataset goes: one file with its manifest beside it (<c>calib.txt</c> + <c>calib.txt.manifest.json</c>), or a
/// folder of nested subsets (<c>subset-200.txt</c>, <c>subset-500.txt</c>, … + <c>manifest.json</c>).
/// </summary>
internal sealed record DatasetOutput
{
    public string? File { get; init; }
    public string? Directory { get; init; }
    public DatasetFormat Format { get; init; } = DatasetFormat.Text;
    public ExistingOutputMode Existing { get; init; } = ExistingOutputMode.Refuse;

    public static DatasetOutput ToFile(string path, DatasetFormat format = DatasetFormat.Text, ExistingOutputMode existing = ExistingOutputMode.Refuse) =>
        new() { File = path, Format = format, Existing = existing };

    public static DatasetOutput ToDirectory(string path, DatasetFormat format = DatasetFormat.Text, ExistingOutputMode existing = ExistingOutputMode.Refuse) =>
        new() { Directory = path, Format = format, Existing = existing };

    internal string Extension => Format == DatasetFormat.Jsonl ? ".jsonl" : ".txt";

    public string ManifestPath
    {
        get
        {
            Validate();
            return Directory is not null ? Path.Combine(Directory, "manifest.json") : ManifestPathFor(File!);
        }
    }

    public static string ManifestPathFor(string dataFile) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dataFile))!, Path.GetFileName(dataFile) + ".manifest.json");

    /// <summary>The data file of a subset of the given size.</summary>
    internal string DataPath(long size) => Directory is not null ? Path.Combine(Directory, $"subset-{size}{Extension}") : File!;

    internal string Folder => Directory ?? Path.GetDirectoryName(Path.GetFullPath(File!))!;

    internal void Validate()
    {
        if ((File is null) == (Directory is null)) throw GgufOptimizeException.BadInput("give exactly one of --output and --output-dir");
    }
}
