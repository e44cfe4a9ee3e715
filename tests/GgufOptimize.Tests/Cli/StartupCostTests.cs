using System.Text.Json;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Progress;
using Mono.Cecil;

namespace GgufOptimize.Tests.Cli;

/// <summary>
/// What the tool's start-up relies on (issue #12, point 6; figures in BENCHMARKS.md): the runtime setting the CLI ships
/// with, and Spectre.Console staying unloaded on runs that show no live display.
/// </summary>
public class StartupCostTests
{
    private static string CliAssemblyPath => typeof(CommandCatalog).Assembly.Location;

    [Fact]
    public void The_tool_runs_without_the_runtimes_double_mapping_of_generated_code()
    {
        string config = Path.ChangeExtension(CliAssemblyPath, ".runtimeconfig.json");
        Assert.True(File.Exists(config), $"no {config} next to the CLI assembly");
        using var json = JsonDocument.Parse(File.ReadAllText(config));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(properties.TryGetProperty("System.Runtime.EnableWriteXorExecute", out var wx), "System.Runtime.EnableWriteXorExecute is not set");
        Assert.Equal(JsonValueKind.False, wx.ValueKind);
    }

    [Fact]
    public void Choosing_a_progress_sink_touches_Spectre_only_for_a_terminal()
    {
        using var module = ModuleDefinition.ReadModule(CliAssemblyPath);
        var sinks = module.GetType(typeof(ProgressSinks).FullName);
        var forStderr = sinks.Methods.Single(m => m.Name == nameof(ProgressSinks.ForStderr));
        var forTerminal = sinks.Methods.Single(m => m.Name == "ForTerminal");

        // Compiling a method resolves every member it names, so a Spectre reference in ForStderr (or one inlined into
        // it) would load Spectre.Console on quiet and redirected runs too.
        Assert.Empty(SpectreReferences(forStderr));
        Assert.NotEmpty(SpectreReferences(forTerminal));
        Assert.True(forTerminal.NoInlining, "ForTerminal must not be inlined into ForStderr");
        Assert.Contains(forStderr.Body.Instructions, i => i.Operand is MethodReference m && m.Name == "ForTerminal");
    }

    [Fact]
    public void Quiet_and_redirected_runs_get_plain_sinks()
    {
        Assert.IsType<QuietProgress>(ProgressSinks.ForStderr(verbose: false, quiet: true));
        Assert.IsType<PlainProgress>(ProgressSinks.ForStderr(verbose: true, quiet: false));
    }

    private static IEnumerable<string> SpectreReferences(MethodDefinition method) =>
        method.Body.Instructions
            .Select(i => i.Operand switch
            {
                MemberReference member when member.DeclaringType is { } t => ScopeOf(t),
                TypeReference type => ScopeOf(type),
                _ => null,
            })
            .Where(scope => scope is not null && scope.StartsWith("Spectre.Console", StringComparison.Ordinal))
            .Select(scope => scope!);

    private static string? ScopeOf(TypeReference type) =>
        type.Scope is AssemblyNameReference name ? name.Name : type.Scope?.Name;
}
