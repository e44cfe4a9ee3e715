using System.Diagnostics;
using System.Text;

namespace GgufOptimize.Tests.Support;

/// <summary>
/// Runs the CLI on a pseudo-terminal, as a user at a terminal would: <c>script -qec CMD /dev/null</c> (util-linux)
/// with TERM=xterm-256color, capturing every byte written to the terminal. stdout can be sent to a file so JSON
/// output is checked while stderr (the progress display) stays on the terminal.
/// </summary>
public static class PtyProcess
{
    public sealed record Result(int ExitCode, string Terminal);

    public static string? ScriptPath => new[] { "/usr/bin/script", "/bin/script" }.FirstOrDefault(File.Exists);

    public static void RequireScript() =>
        Skip.If(ScriptPath is null, "'script' (util-linux/bsdutils) is not installed: the pseudo-terminal tests are skipped");

    public static Result Run(string[] args, string? stdoutFile = null, TimeSpan? timeout = null, Func<string, bool>? interruptWhen = null)
    {
        RequireScript();
        string command = "exec dotnet " + Quote(CliProcess.DllPath) + " " + string.Join(' ', args.Select(Quote)) +
                         (stdoutFile is null ? "" : " > " + Quote(stdoutFile));
        var psi = new ProcessStartInfo(ScriptPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-qec", command, "/dev/null" }) psi.ArgumentList.Add(a);
        psi.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(psi)!;
        var captured = new StringBuilder();
        var reader = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = process.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
                lock (captured) captured.Append(buffer, 0, n);
        });
        var errors = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        var clock = Stopwatch.StartNew();
        bool interrupted = interruptWhen is null;
        while (!process.WaitForExit(100))
        {
            if (clock.Elapsed > limit)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"gguf-optimize {string.Join(' ', args)} did not finish within {limit} on a pseudo-terminal");
            }
            if (!interrupted)
            {
                string so_far;
                lock (captured) so_far = captured.ToString();
                if (interruptWhen!(so_far))
                {
                    // Ctrl-C typed at the terminal: the pty turns it into SIGINT for the foreground process.
                    process.StandardInput.Write('\x03');
                    process.StandardInput.Flush();
                    interrupted = true;
                }
            }
        }
        process.WaitForExit();
        reader.Wait();
        lock (captured) return new Result(process.ExitCode, captured.ToString() + errors.Result);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
