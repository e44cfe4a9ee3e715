using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Tests.Quantization;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Imatrix;

public class ImatrixCliTests
{
    [Slow]
    [SkippableFact]
    public void Kill_9_then_the_same_command_resumes_from_the_last_snapshot_and_matches_an_uninterrupted_run()
    {
        using var dir = new TempDir();
        string dataset = dir.File("calib.txt");
        File.WriteAllText(dataset, AidreamsText.Calibration());
        string output = dir.File("resumed.gguf");
        string[] args = ["imatrix", "-m", SharedAssets.AidreamsModel, "-d", dataset, "-o", output, "-c", "128", "-b", "16", "-t", "1", "--save-frequency", "1", "-q"];

        using (var victim = CliProcess.Start(args))
        {
            _ = victim.StandardOutput.ReadToEndAsync();
            _ = victim.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!File.Exists(output + ".resume") && !victim.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(5);
            Assert.False(victim.HasExited, "the run finished before it could be killed");
            victim.Kill(); // SIGKILL: no chance to clean up
            victim.WaitForExit();
        }
        Assert.False(File.Exists(output));
        Assert.True(File.Exists(output + ".resume"));

        var resumed = CliProcess.Run([.. args.Where(a => a != "-q"), "--json"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        using var json = JsonDocument.Parse(resumed.Stdout);
        int taken = json.RootElement.GetProperty("chunksResumed").GetInt32();
        Assert.True(taken >= 1, "nothing was taken over from the snapshot");
        Assert.Contains("resuming from", resumed.Stderr);
        Assert.False(File.Exists(output + ".resume"));

        ImatrixBuilder.Run(new ImatrixOptions
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = dataset, OutputPath = dir.File("straight.gguf"),
            ContextSize = 128, BatchSize = 16, Threads = 1,
        }, NullProgress.Instance);
        Assert.Equal(File.ReadAllBytes(dir.File("straight.gguf")), File.ReadAllBytes(output));
    }
}
