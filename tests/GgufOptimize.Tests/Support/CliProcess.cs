using System.Diagnostics;

namespace GgufOptimize.Tests.Support;

/// <summary>Runs the real <c>gguf-optimize</c> CLI (built next to the tests) as a child process.</summary>
public static class CliProcess
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "gguf-optimize.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    public static Result Run(TimeSpan timeout, params string[] args) => Run(timeout, null, args);

    /// <summary>Runs the command with <paramref name="workingDirectory"/> as its current folder (relative paths as a user types them).</summary>
    public static Result RunIn(string workingDirectory, params string[] args) => Run(TimeSpan.FromMinutes(5), workingDirectory, args);

    /// <summary>Runs the command with extra environment variables.</summary>
    public static Result RunWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Run(TimeSpan.FromMinutes(5), null, args, environment);

    private static Result Run(TimeSpan timeout, string? workingDirectory, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(workingDirectory, args, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"gguf-optimize {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static Process Start(params string[] args) => Start(null, args);

    private static Process Start(string? workingDirectory, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>
    /// Starts the command and kills it (SIGKILL) after <paramref name="delay"/>; returns true when it was killed
    /// before it finished on its own.
    /// </summary>
    public static bool RunAndKill(TimeSpan delay, params string[] args)
    {
        using var process = Start(args);
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        if (process.WaitForExit(delay)) return false;
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return true;
    }
}
