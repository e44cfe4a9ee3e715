using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>
/// An option whose value is one of an enum's members, written in lower case in --help and accepted in any case (the
/// default enum binding would show PascalCase names).
/// </summary>
internal static class ChoiceOption
{
    public static Option<string> Create<TEnum>(string name, string description, TEnum defaultValue) where TEnum : struct, Enum
    {
        string[] names = Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()).ToArray();
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', names),
            DefaultValueFactory = _ => defaultValue.ToString().ToLowerInvariant(),
        };
        option.CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (Enum.TryParse<TEnum>(text, ignoreCase: true, out _) && !int.TryParse(text, out _)) return text.ToLowerInvariant();
            result.AddError($"{name} '{text}' is not one of {string.Join(", ", names)}");
            return null;
        };
        return option;
    }

    public static TEnum Get<TEnum>(ParseResult parse, Option<string> option) where TEnum : struct, Enum =>
        Enum.Parse<TEnum>(parse.GetValue(option)!, ignoreCase: true);
}
