using GgufOptimize.Cli.Infrastructure;

namespace GgufOptimize.Tests.Cli;

/// <summary>
/// A run builds only the command it names (start-up time), and falls back to every command whenever the first word
/// is not a command, so help, typos and global options first read as before.
/// </summary>
public class CommandCatalogTests
{
    [Fact]
    public void Each_entry_builds_the_command_it_is_named_for()
    {
        Assert.Equal(CommandCatalog.Names, CommandCatalog.All().Select(c => c.Name).ToArray());
        Assert.Equal(CommandCatalog.Names.Count, CommandCatalog.Names.Distinct().Count());
    }

    [Theory]
    [InlineData("logits -m a.gguf -d t.txt", "logits")]
    [InlineData("kld --help", "kld")]
    [InlineData("demo", "demo")]
    public void A_named_command_is_built_alone(string line, string expected)
    {
        var built = CommandCatalog.For(line.Split(' ')).Select(c => c.Name).ToArray();
        Assert.Equal([expected], built);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--help")]
    [InlineData("-v logits -m a.gguf")]
    [InlineData("logitz -m a.gguf")]
    public void Anything_else_builds_every_command(string line)
    {
        var args = line.Length == 0 ? Array.Empty<string>() : line.Split(' ');
        Assert.Equal(CommandCatalog.Names, CommandCatalog.For(args).Select(c => c.Name).ToArray());
    }
}
