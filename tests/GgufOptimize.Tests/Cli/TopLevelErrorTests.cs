using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Common;

namespace GgufOptimize.Tests.Cli;

/// <summary>An exception no command expected is still one line, a hint to --verbose, and exit code 1.</summary>
public class TopLevelErrorTests
{
    private static (int Exit, string Error) Invoke(Exception thrown, params string[] args)
    {
        var command = new Command("boom");
        CommandRunner.SetAction(command, (_, _, _) => throw thrown);
        var root = new RootCommand { command, GlobalOptions.Verbose, GlobalOptions.Quiet };
        var error = new StringWriter();
        int exit = root.Parse(["boom", "-q", .. args]).Invoke(new InvocationConfiguration { Error = error, EnableDefaultExceptionHandler = false });
        return (exit, error.ToString());
    }

    [Fact]
    public void An_unexpected_exception_gives_one_line_with_a_verbose_hint_and_exit_1()
    {
        var (exit, error) = Invoke(new InvalidOperationException("Encountered malformed markup tag at position 74"));
        Assert.Equal(ExitCodes.Failure, exit);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("gguf-optimize: internal error (InvalidOperationException): Encountered malformed markup tag", line);
        Assert.Contains("--verbose", line);
        Assert.DoesNotContain("   at ", line);
    }

    [Fact]
    public void With_verbose_the_stack_trace_follows()
    {
#pragma warning disable CA2201 // the test plays a program bug, which is what the runtime would throw
        var (exit, error) = Invoke(new NullReferenceException("x"), "--verbose");
#pragma warning restore CA2201
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("System.NullReferenceException: x", error);
        Assert.Contains("   at ", error);
    }

    [Fact]
    public void Bad_input_stays_exit_2_and_interruption_130()
    {
        Assert.Equal(ExitCodes.BadInput, Invoke(GgufOptimizeException.BadInput("--threads must not be negative")).Exit);
        Assert.Equal(ExitCodes.Cancelled, Invoke(new OperationCanceledException()).Exit);
        var (exit, error) = Invoke(GgufOptimizeException.Runtime("disk full"));
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Equal("gguf-optimize: error: disk full", error.Trim());
    }
}
