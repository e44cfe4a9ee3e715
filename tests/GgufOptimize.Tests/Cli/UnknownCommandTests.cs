using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Common;

namespace GgufOptimize.Tests.Cli;

/// <summary>A mistyped command is one line naming the word and the command meant, exit 2.</summary>
public class UnknownCommandTests
{
    private static (int Exit, string Error) Parse(params string[] args)
    {
        var root = new RootCommand { GlobalOptions.Verbose, GlobalOptions.Quiet };
        foreach (var command in CommandCatalog.For(args)) root.Subcommands.Add(command);
        var parsed = root.Parse(args);
        Assert.NotEmpty(parsed.Errors);
        var error = new StringWriter();
        return (ParseErrors.Report(parsed, root, error), error.ToString());
    }

    [Theory]
    [InlineData("logitz", "logits")]
    [InlineData("Quantise", "quantize")]
    [InlineData("imatrx", "imatrix")]
    public void A_near_miss_names_the_word_and_the_command_meant(string typed, string meant)
    {
        var (exit, error) = Parse(typed, "-m", "model.gguf");
        Assert.Equal(ExitCodes.BadInput, exit);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"unknown command '{typed}'; did you mean '{meant}'?", line);
    }

    [Fact]
    public void A_far_word_lists_the_commands()
    {
        var (exit, error) = Parse("frobnicate");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("unknown command 'frobnicate'; the commands are inspect, logits, kld", error);
    }

    [Fact]
    public void An_unknown_option_of_a_known_command_is_still_reported_as_before()
    {
        var (exit, error) = Parse("logits", "--no-such-option");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.DoesNotContain("unknown command", error);
        Assert.Contains("--no-such-option", error);
    }
}
