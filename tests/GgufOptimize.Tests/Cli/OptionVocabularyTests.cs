using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;

namespace GgufOptimize.Tests.Cli;

/// <summary>The shared options read the same in every command, and the old spellings still parse without showing.</summary>
public class OptionVocabularyTests
{
    private static RootCommand Root()
    {
        var root = new RootCommand("test") { GlobalOptions.Verbose, GlobalOptions.Quiet };
        foreach (var c in CommandCatalog.All()) root.Subcommands.Add(c);
        return root;
    }

    private static IEnumerable<Command> AllCommands(Command c) => new[] { c }.Concat(c.Subcommands.SelectMany(AllCommands));

    [Fact]
    public void Shared_options_have_one_spelling_and_one_help_text_everywhere()
    {
        int checkedOptions = 0;
        foreach (var command in AllCommands(Root()).Skip(1))
            foreach (var option in command.Options.Where(o => !o.Hidden))
            {
                if (!OptionVocabulary.ByName.TryGetValue(option.Name, out var spec)) continue;
                Assert.Equal(spec.Aliases.Order(), option.Aliases.Order());
                if (!spec.SharedDescription) continue;
                // iterate adds the plan's default after the shared text.
                if (command.Name == "iterate") Assert.StartsWith(spec.Description, option.Description);
                else Assert.Equal(spec.Description, option.Description);
                checkedOptions++;
            }
        Assert.True(checkedOptions >= 25, $"only {checkedOptions} shared options found");
        // Every command that runs a model takes the threads option; the output is -o/--output wherever there is one.
        foreach (string name in new[] { "logits", "kld", "quantize", "imatrix", "iterate", "demo" })
            Assert.Contains(Root().Subcommands.Single(c => c.Name == name).Options, o => o.Name == "--threads" && o.Aliases.Contains("-t"));
        foreach (var command in AllCommands(Root()).Skip(1))
            Assert.DoesNotContain(command.Options, o => !o.Hidden && o.Name is "--output-file" or "--clobber");
    }

    [Theory]
    [InlineData("kld --baseline-logits b.h5 --target-model t.gguf --output-file out.h5 --clobber")]
    [InlineData("logits -m m.gguf -d d.txt --clobber --ctx-size 128 -ub 64")]
    [InlineData("quantize -m m.gguf --types Q4_0 --output-dir out")]
    [InlineData("dataset --source a.txt -o d.txt --clobber --split LINE --format Jsonl")]
    [InlineData("iterate -m m.gguf -d e.txt -o out -t 1 -c 128")]
    [InlineData("imatrix -m m.gguf -d c.txt --from-chunk 2 --to-chunk 5")]
    public void Old_and_short_spellings_parse(string line)
    {
        var parsed = Root().Parse(JsonOption.Normalize(line.Split(' ')));
        Assert.True(parsed.Errors.Count == 0, string.Join("; ", parsed.Errors.Select(e => e.Message)));
    }

    [Fact]
    public void Legacy_spellings_carry_their_value()
    {
        var kld = GgufOptimize.Cli.Commands.KldCommand.Create();
        var parsed = new RootCommand { kld }.Parse("kld --output-file old.h5 --clobber");
        var output = kld.Options.Single(o => o.Name == "--output-file");
        var clobber = kld.Options.Single(o => o.Name == "--clobber");
        Assert.True(output.Hidden && clobber.Hidden);
        Assert.Equal("old.h5", parsed.GetValue((Option<string>)output));
        Assert.True(parsed.GetValue((Option<bool>)clobber));
    }

    [Fact]
    public void A_bare_json_means_stdout_and_leaves_the_next_argument_alone()
    {
        var json = new JsonOption();
        var model = new Argument<string>("model");
        var command = new Command("inspect") { model, json.Option };
        var root = new RootCommand { command };

        var bare = root.Parse(JsonOption.Normalize(["inspect", "--json", "m.gguf"]));
        Assert.Empty(bare.Errors);
        Assert.Equal("m.gguf", bare.GetValue(model));
        Assert.True(json.ToStdout(bare));

        var last = root.Parse(JsonOption.Normalize(["inspect", "m.gguf", "--json"]));
        Assert.True(json.ToStdout(last));

        var file = root.Parse(JsonOption.Normalize(["inspect", "--json", "out.json", "m.gguf"]));
        Assert.Equal("out.json", json.Target(file));
        Assert.Equal("m.gguf", file.GetValue(model));

        var none = root.Parse(JsonOption.Normalize(["inspect", "m.gguf"]));
        Assert.Null(json.Target(none));
    }

    [Fact]
    public void Enum_choices_are_shown_in_lower_case()
    {
        var dataset = GgufOptimize.Cli.Commands.DatasetCommand.Create();
        foreach (string name in new[] { "--split", "--format", "--invalid-utf8" })
        {
            var option = dataset.Options.Single(o => o.Name == name);
            Assert.Equal(option.HelpName, option.HelpName!.ToLowerInvariant());
            Assert.Contains('|', option.HelpName);
        }
        var bad = new RootCommand { dataset }.Parse("dataset --source a.txt -o d.txt --split sentences");
        Assert.Contains(bad.Errors, e => e.Message.Contains("paragraph, line"));
    }
}
