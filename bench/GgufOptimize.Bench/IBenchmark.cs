namespace GgufOptimize.Bench;

/// <summary>
/// One named benchmark. Program finds every non-abstract implementation by reflection, so adding a benchmark is
/// adding one file: `dotnet run -c Release --project bench/GgufOptimize.Bench -- &lt;name&gt; [args]`.
/// </summary>
public interface IBenchmark
{
    /// <summary>The name typed on the command line (lowercase, no spaces).</summary>
    string Name { get; }
    /// <summary>One line for the list printed without arguments.</summary>
    string Description { get; }
    /// <summary>Runs with the arguments after the name; returns the process exit code.</summary>
    int Run(string[] args);
}
