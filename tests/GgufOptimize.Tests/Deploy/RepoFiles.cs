namespace GgufOptimize.Tests.Deploy;

/// <summary>Files of the repository itself (deploy/, the Dockerfile), found from the test binaries upwards.</summary>
internal static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "GgufOptimize.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no GgufOptimize.slnx above {AppContext.BaseDirectory}");
    }
}
