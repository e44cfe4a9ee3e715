using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Gguf;

[CollectionDefinition(nameof(GgufHeaderPrefetchCollection), DisableParallelization = true)]
public sealed class GgufHeaderPrefetchCollection;

/// <summary>
/// The prefetched header read (started by the CLI while llama.cpp's libraries load) gives what a direct read gives,
/// errors included, and is not used for a file that changed since. Runs alone: the prefetch is one per process.
/// </summary>
[Collection(nameof(GgufHeaderPrefetchCollection))]
public class GgufHeaderPrefetchTests
{
    private static string WriteModel(string path, int tokens)
    {
        var w = new GgufWriter();
        w.Metadata.Set("general.architecture", GgufValue.String("llama"));
        w.Metadata.Set("tokens", GgufValue.Array(Enumerable.Range(0, tokens).Select(i => "tok" + i)));
        w.AddTensor("a", [64, 4], new float[256]);
        w.Write(path);
        return path;
    }

    private static string[] Tokens(GgufFile file) => file.Metadata["tokens"].AsStringArray();

    [Fact]
    public void The_prefetched_header_is_the_one_a_direct_read_gives_and_is_taken_once()
    {
        using var dir = new TempDir();
        string path = WriteModel(dir.File("m.gguf"), 50);
        GgufHeaderPrefetch.Start(path);
        var taken = GgufHeaderPrefetch.Take(path);
        Assert.NotNull(taken);
        var direct = GgufModelValidation.ReadCheckedNow(path);
        Assert.Equal(direct.DataOffset, taken.DataOffset);
        Assert.Equal(direct.Tensors.Select(t => (t.Name, t.Offset)), taken.Tensors.Select(t => (t.Name, t.Offset)));
        Assert.Equal(Tokens(direct), Tokens(taken));
        Assert.Null(GgufHeaderPrefetch.Take(path));
    }

    [Fact]
    public void Another_path_does_not_take_it()
    {
        using var dir = new TempDir();
        string a = WriteModel(dir.File("a.gguf"), 50), b = WriteModel(dir.File("b.gguf"), 60);
        GgufHeaderPrefetch.Start(a);
        Assert.Null(GgufHeaderPrefetch.Take(b));
        Assert.Equal(60, GgufModelValidation.ReadChecked(b).Metadata["tokens"].Count);
        Assert.NotNull(GgufHeaderPrefetch.Take(a));
    }

    [Fact]
    public void A_file_changed_after_the_prefetch_started_is_read_again()
    {
        using var dir = new TempDir();
        string path = WriteModel(dir.File("m.gguf"), 50);
        GgufHeaderPrefetch.Start(path);
        WriteModel(path, 70);
        Assert.Equal(70, GgufModelValidation.ReadChecked(path).Metadata["tokens"].Count);
    }

    [Fact]
    public void A_bad_file_fails_with_the_direct_read_s_error_where_the_header_is_asked_for()
    {
        using var dir = new TempDir();
        string path = dir.File("text.gguf");
        File.WriteAllText(path, "hello, this is not a model at all");
        var direct = Assert.Throws<GgufOptimizeException>(() => GgufModelValidation.ReadCheckedNow(path));
        GgufHeaderPrefetch.Start(path);
        var prefetched = Assert.Throws<GgufOptimizeException>(() => GgufModelValidation.ReadChecked(path));
        Assert.Equal(FailureKind.BadInput, prefetched.Kind);
        Assert.Equal(direct.Message, prefetched.Message);
    }

    [Fact]
    public void A_missing_file_starts_nothing_and_the_direct_read_names_it()
    {
        using var dir = new TempDir();
        string path = dir.File("nope.gguf");
        GgufHeaderPrefetch.Start(path);
        Assert.Null(GgufHeaderPrefetch.Take(path));
        Assert.Contains("does not exist", Assert.Throws<GgufOptimizeException>(() => GgufModelValidation.ReadChecked(path)).Message);
    }
}
