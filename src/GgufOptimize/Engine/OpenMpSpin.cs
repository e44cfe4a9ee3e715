using System.Runtime.InteropServices;

namespace GgufOptimize.Engine;

/// <summary>
/// How long llama.cpp's OpenMP worker threads busy-wait before they sleep. libgomp's default (300,000 spins, several
/// milliseconds) keeps a worker burning a core while the main thread does anything between two decodes (copying,
/// encoding or scoring the logits) and, on a busy machine, while its partner thread is descheduled at a barrier.
/// The waits inside one decode are microseconds, well below the shorter spin set here, so decoding keeps its speed
/// (BENCHMARKS.md, "OpenMP spinning"). A user's own GOMP_SPINCOUNT or OMP_WAIT_POLICY is left as it is.
/// </summary>
internal static class OpenMpSpin
{
    /// <summary>Spins before a waiting worker sleeps (each a pause instruction: about 0.1–0.2 ms in all).</summary>
    public const int SpinCount = 10_000;

    internal const string SpinVariable = "GOMP_SPINCOUNT";
    internal const string PolicyVariable = "OMP_WAIT_POLICY";

    /// <summary>The value to set, or null when the environment already says how OpenMP should wait.</summary>
    internal static string? ValueFor(Func<string, string?> environment) =>
        environment(SpinVariable) is not null || environment(PolicyVariable) is not null
            ? null
            : SpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Sets it in the process's native environment (libgomp reads it once, when it is loaded, so this must run before
    /// llama.cpp is). .NET's own Environment.SetEnvironmentVariable does not reach native getenv on Linux.
    /// </summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (ValueFor(NativeValue) is { } value) _ = setenv(SpinVariable, value, 0);
    }

    /// <summary>The variable as native code sees it.</summary>
    internal static string? NativeValue(string name) => Marshal.PtrToStringUTF8(getenv(name));

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
