using System.Reflection;

namespace GgufOptimize.Tests.Architecture;

/// <summary>
/// The public surface is pinned: the library exports exactly the types listed in PublicApi.txt and the CLI exports
/// none, so widening the API is a visible edit rather than a side effect of a missing <c>internal</c>.
/// </summary>
public class PublicApiTests
{
    private static readonly string ListPath = Path.Combine(AppContext.BaseDirectory, "Architecture", "PublicApi.txt");

    [Fact]
    public void The_library_exports_exactly_the_listed_types()
    {
        var pinned = File.ReadLines(ListPath).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
        var exported = typeof(GgufOptimize.Common.GgufOptimizeException).Assembly.GetExportedTypes().Select(Name);
        var (added, missing) = Differences(pinned, exported);
        Assert.True(added.Count == 0 && missing.Count == 0,
            "the public API changed; if deliberate, document the types and edit tests/GgufOptimize.Tests/Architecture/PublicApi.txt.\n" +
            (added.Count > 0 ? "public but not listed: " + string.Join(", ", added) + "\n" : "") +
            (missing.Count > 0 ? "listed but not public: " + string.Join(", ", missing) : ""));
    }

    [Fact]
    public void The_cli_exports_nothing()
    {
        var cli = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "gguf-optimize.dll"));
        Assert.Empty(cli.GetExportedTypes().Select(Name));
    }

    [Fact]
    public void A_difference_in_either_direction_is_reported()
    {
        // The comparison the pin relies on, shown to fail both ways (a type made public, a listed type made internal).
        var (added, missing) = Differences(["A.Listed", "A.Both"], ["A.Both", "A.NewlyPublic"]);
        Assert.Equal(["A.NewlyPublic"], added);
        Assert.Equal(["A.Listed"], missing);
        Assert.Equal((0, 0), (Differences(["A.X"], ["A.X"]).Added.Count, Differences(["A.X"], ["A.X"]).Missing.Count));
    }

    private static string Name(Type t) => (t.FullName ?? t.Name).Replace('+', '.');

    private static (List<string> Added, List<string> Missing) Differences(IEnumerable<string> pinned, IEnumerable<string> actual)
    {
        var p = pinned.ToHashSet(StringComparer.Ordinal);
        var a = actual.ToHashSet(StringComparer.Ordinal);
        return (a.Except(p).Order(StringComparer.Ordinal).ToList(), p.Except(a).Order(StringComparer.Ordinal).ToList());
    }
}
