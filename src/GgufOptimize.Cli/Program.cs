using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;

var root = new RootCommand("gguf-optimize: measure and minimise the damage quantization does to a GGUF model.");
root.Options.Add(GlobalOptions.Verbose);
root.Options.Add(GlobalOptions.Quiet);
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

return await root.Parse(args).InvokeAsync();
