using Xunit.Abstractions;

namespace GgufOptimize.Tests.Architecture;

/// <summary>The layering rules hold on the compiled library, and the checker does catch a violation.</summary>
public class LayeringTests(ITestOutputHelper output)
{
    private static string LibraryPath => typeof(GgufOptimize.Common.GgufOptimizeException).Assembly.Location;

    [Fact]
    public void The_library_keeps_its_layers()
    {
        foreach (var (from, to) in LayerRules.Graph(LibraryPath, "GgufOptimize"))
            output.WriteLine($"{from} → {string.Join(", ", to)}");
        var violations = LayerRules.Check(LibraryPath, LayerRules.Project);
        Assert.True(violations.Count == 0, "layering violations:\n" + string.Join('\n', violations));
    }

    [Fact]
    public void A_violating_type_is_reported_with_the_reference_that_breaks_the_rule()
    {
        // The fixture namespaces below play the layers; the checker reads this test assembly.
        const string fixture = "GgufOptimize.Tests.Architecture.Fixture";
        LayerRule[] rules =
        [
            new($"{fixture}.Metrics", ["System.IO"], "Metrics does no I/O"),
            new(fixture, ["System.Console"], "the library never writes to the console"),
        ];
        var violations = LayerRules.Check(typeof(LayeringTests).Assembly.Location, rules);
        foreach (var v in violations) output.WriteLine(v.ToString());

        Assert.Contains(violations, v => v.FromType == $"{fixture}.Metrics.ReadsAFile" && v.ToType == "System.IO.File");
        Assert.Contains(violations, v => v.FromType == $"{fixture}.Metrics.ReadsAFile" && v.ToType == "System.Console");
        // A lambda's closure counts for the type that wrote it.
        Assert.Contains(violations, v => v.FromType == $"{fixture}.Metrics.LogsInALambda" && v.ToType == "System.Console");
        Assert.DoesNotContain(violations, v => v.FromType == $"{fixture}.Metrics.PureMaths");
    }
}
