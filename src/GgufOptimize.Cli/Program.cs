using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;

var root = new RootCommand("gguf-optimize: measure and minimise the damage quantization does to a GGUF model.");
root.Options.Add(GlobalOptions.Verbose);
root.Options.Add(GlobalOptions.Quiet);
root.Options.Add(GlobalOptions.LlamaLib);
foreach (var command in CommandCatalog.For(args))
    root.Subcommands.Add(command);

// Ctrl-C (SIGINT) and SIGTERM cancel the command's token: it stops at the next chunk, ends the progress display and
// says how to resume (exit 130). A second Ctrl-C is not intercepted and ends the process at once. (System.CommandLine
// 2.0 installs no handler by default, so without this Ctrl-C killed the process mid-line with the cursor hidden.)
using var interrupt = new CancellationTokenSource();
void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
{
    if (interrupt.IsCancellationRequested) return;
    context.Cancel = true;
    interrupt.Cancel();
}
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal);
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal);

try
{
    var parsed = root.Parse(JsonOption.Normalize(args));
    if (parsed.Errors.Count > 0) return ParseErrors.Report(parsed, root, Console.Error);
    // Commands report their own failures (CommandRunner); System.CommandLine's handler would print a stack trace.
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, interrupt.Token);
}
catch (Exception e)
{
    return Failures.Report(e, args.Contains("--verbose") || args.Contains("-v"), Console.Error);
}
