using System.Runtime.CompilerServices;
using GgufOptimize.Datasets.Sources;

namespace DatasetPlugin;

/// <summary>
/// A dataset source for <c>gguf-optimize dataset --plugin DatasetPlugin.dll --plugin-arg FOLDER</c>: every
/// <c>LANG.txt</c> in the folder is one language, and each non-empty line of it one sample. It shows the whole
/// contract of <see cref="IDatasetSource"/>: a stable order, lazy reading, languages, and counted (not thrown) problems.
/// </summary>
public sealed class LanguageFolderSource : IDatasetSource
{
    private readonly string _folder;

    /// <summary>The folder comes from --plugin-arg.</summary>
    public LanguageFolderSource(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"language folder '{folder}' does not exist");
        _folder = folder;
    }

    /// <summary>Named in the manifest; it changes when the folder does, so --append notices another source.</summary>
    public string Description => $"language-folder:{Path.GetFullPath(_folder)}";

    /// <summary>Every sample carries its file's language, so --langs can select and balance them.</summary>
    public bool ProvidesLanguage => true;

    /// <summary>Lets the progress bar show bytes read.</summary>
    public long? TotalBytes => Files().Sum(f => new FileInfo(f).Length);

    /// <summary>Files in name order, lines in file order: the same folder always yields the same sequence.</summary>
    public async IAsyncEnumerable<SourceSample> ReadAsync(SourceReadContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (string file in Files())
        {
            string language = Path.GetFileNameWithoutExtension(file);
            // Languages the selection no longer needs are not read at all.
            if (!context.WantsLanguage(language)) continue;
            using var reader = new StreamReader(file);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0) continue;
                yield return new SourceSample(line, language);
            }
        }
    }

    private string[] Files() => Directory.GetFiles(_folder, "*.txt").Order(StringComparer.Ordinal).ToArray();
}
