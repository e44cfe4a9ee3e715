using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;

var root = new RootCommand("gguf-optimize: measure and minimise the damage quantization does to a GGUF model.");
root.Options.Add(GlobalOptions.Verbose);
root.Options.Add(GlobalOptions.Quiet);
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

try
{
    var parsed = root.Parse(JsonOption.Normalize(args));
    if (parsed.Errors.Count > 0) return ParseErrors.Report(parsed, root, Console.Error);
    // Commands report their own failures (CommandRunner); System.CommandLine's handler would print a stack trace.
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    return Failures.Report(e, args.Contains("--verbose") || args.Contains("-v"), Console.Error);
}
