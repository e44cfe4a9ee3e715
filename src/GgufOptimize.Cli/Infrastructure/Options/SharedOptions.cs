using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>Builders of the shared options from <see cref="OptionVocabulary"/>; a command adds what it returns.</summary>
internal static class SharedOptions
{
    public static Option<T> Create<T>(OptionSpec spec, string? description = null) =>
        new(spec.Name, spec.Aliases) { Description = description ?? spec.Description };

    public static Option<int> Int(OptionSpec spec, int defaultValue) =>
        new(spec.Name, spec.Aliases) { Description = spec.Description, DefaultValueFactory = _ => defaultValue, HelpName = "N" };

    /// <summary>-o/--output; <paramref name="legacy"/> are the command's old spellings (--output-file, --output-dir).</summary>
    public static AliasedOption<string> Output(string description, string? defaultValue, params string[] legacy)
    {
        var option = new Option<string>(OptionVocabulary.Output.Name, OptionVocabulary.Output.Aliases) { Description = description, HelpName = "PATH" };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return new AliasedOption<string>(option, legacy);
    }

    /// <summary>--overwrite, also spelled --clobber (hidden).</summary>
    public static AliasedOption<bool> Overwrite() =>
        new(new Option<bool>(OptionVocabulary.Overwrite.Name) { Description = OptionVocabulary.Overwrite.Description }, OptionVocabulary.Overwrite.LegacyNames);
}
