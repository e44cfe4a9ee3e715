using System.Diagnostics;
using GgufOptimize.Tests.Quantization;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Deploy;

/// <summary>
/// deploy/slurm for real: a single-node Slurm cluster (munge, slurmctld, slurmd) is started on this machine from a
/// generated configuration, deploy/slurm/submit.sh runs 3 array tasks of logits over the real model's held-out text
/// and the dependent merge job, and the merged baseline must equal a single run byte for byte.
/// </summary>
public class SlurmClusterTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];
    private static readonly string[] Daemons = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/squeue"];

    [Slow]
    [SkippableFact]
    public void Three_array_tasks_and_the_dependent_merge_equal_one_run_byte_for_byte()
    {
        Skip.If(Environment.UserName != "root", "needs root to start slurmd and munged (run as root, as CI does)");
        var missing = Daemons.Where(d => !File.Exists(d)).ToList();
        Skip.If(missing.Count > 0, $"Slurm is not installed ({string.Join(", ", missing)} missing): apt-get install slurm-wlm munge, as .ci/run does");
        string model = SharedAssets.AidreamsModel;

        using var tmp = new TempDir();
        string text = tmp.File("held-out.txt");
        File.WriteAllText(text, AidreamsText.Evaluation());
        string cluster = tmp.File("cluster");
        string script = RepoFiles.Path("deploy", "slurm", "local-cluster.sh");

        var start = Run(tmp.Path, NoEnvironment, script, "start", cluster);
        Skip.If(start.ExitCode != 0, $"the local Slurm cluster did not start: {start.Stderr.Trim()}");
        try
        {
            var env = new Dictionary<string, string>
            {
                ["SLURM_CONF"] = Path.Combine(cluster, "slurm.conf"),
                ["GGUF_OPTIMIZE"] = $"dotnet {CliProcess.DllPath}",
                ["SUBMIT_WAIT"] = "1",
            };
            string[] args = ["-m", model, "-d", text, "-c", "128", "-t", "1"];
            var submit = Run(tmp.Path, env, RepoFiles.Path("deploy", "slurm", "submit.sh"), ["3", "logits", tmp.File("base.h5"), .. args]);
            string logs = string.Join("\n", Directory.GetFiles(tmp.Path, "ggo-*.log").Order().Select(f => $"{Path.GetFileName(f)}:\n{File.ReadAllText(f)}"));
            Assert.True(submit.ExitCode == 0, $"submit.sh failed: {submit.Stderr}\n{logs}");
            Assert.Equal(3, Directory.GetFiles(tmp.Path, "ggo-shard-*.log").Length);
            for (int k = 0; k < 3; k++) Assert.Contains($"shard {k}/3", logs);

            var single = CliProcess.Run(["logits", .. args, "-o", tmp.File("single.h5"), "--quiet"]);
            Assert.True(single.ExitCode == 0, single.Stderr);
            Assert.Equal(File.ReadAllBytes(tmp.File("single.h5")), File.ReadAllBytes(tmp.File("base.h5")));
        }
        finally
        {
            Run(tmp.Path, NoEnvironment, script, "stop", cluster);
        }
    }

    private static CliProcess.Result Run(string workingDirectory, IReadOnlyDictionary<string, string> env, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within 3 minutes");
        }
        return new CliProcess.Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
