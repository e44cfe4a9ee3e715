using System.Diagnostics;

namespace GgufOptimize.Tests.Reporting;

/// <summary>Debian's chromium, headless, with a fresh profile; tests skip with a message when it is not installed.</summary>
internal static class HeadlessChromium
{
    private static readonly Lazy<string?> Binary = new(() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists));

    /// <summary>The DOM of <paramref name="page"/> after its scripts ran (load event included).</summary>
    public static string DumpDom(string page)
    {
        Skip.If(Binary.Value is null, "chromium is not installed (apt-get install chromium); the HTML report check is skipped");
        string profile = Directory.CreateTempSubdirectory("ggufopt-chromium-").FullName;
        try
        {
            var info = new ProcessStartInfo(Binary.Value!) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", $"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom",
                new Uri(Path.GetFullPath(page)).AbsoluteUri,
            }) info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("chromium did not finish within 2 minutes");
            }
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {stderr.Result}");
            return stdout.Result;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
    }
}
