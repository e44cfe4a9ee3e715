using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Common;

var root = new RootCommand("gguf-optimize: measure and minimise the damage quantization does to a GGUF model.");
root.Options.Add(GlobalOptions.Verbose);
root.Options.Add(GlobalOptions.Quiet);
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // One line naming the option, exit 2: the same contract as every other bad input.
    string command = parsed.CommandResult.Command == root ? "gguf-optimize" : $"gguf-optimize {parsed.CommandResult.Command.Name}";
    string message = string.Join(' ', parsed.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
    string? option = parsed.Errors[0].SymbolResult switch
    {
        System.CommandLine.Parsing.OptionResult o => o.Option.Name,
        System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o.Option.Name,
        _ => null,
    };
    if (option is not null && !message.Contains(option)) message = $"{option}: {message}";
    Console.Error.WriteLine($"gguf-optimize: error: {message} (see '{command} --help')");
    return ExitCodes.BadInput;
}
return await parsed.InvokeAsync();
