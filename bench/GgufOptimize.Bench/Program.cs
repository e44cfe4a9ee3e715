using System.Reflection;
using GgufOptimize.Bench;

var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: dotnet run -c Release --project bench/GgufOptimize.Bench -- <name> [args]");
    foreach (var b in benchmarks) Console.WriteLine($"  {b.Name,-12} {b.Description}");
    return args.Length == 0 ? 2 : 0;
}

var chosen = benchmarks.FirstOrDefault(b => b.Name == args[0]);
if (chosen is null)
{
    Console.Error.WriteLine($"unknown benchmark '{args[0]}'; known: {string.Join(", ", benchmarks.Select(b => b.Name))}");
    return 2;
}
#if DEBUG
Console.Error.WriteLine("warning: Debug build; use -c Release for meaningful numbers");
#endif
Console.WriteLine($"# {chosen.Name} | {Environment.ProcessorCount} logical cores visible | .NET {Environment.Version} | {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
return chosen.Run(args[1..]);
