using System.Runtime.InteropServices;

namespace GgufOptimize.Common;

/// <summary>
/// Lowers the calling thread's scheduling priority (Linux nice 19) for work that must not take a core from llama.cpp's
/// decode threads: with every core running a decode thread, a background thread that wins a core stalls the whole
/// decode at its next barrier (its partners spin or sleep until the preempted one is back), so each millisecond of
/// background work had cost the decode up to another (BENCHMARKS.md). At nice 19 the background thread runs when a
/// core would otherwise idle — between decodes, or while the decode waits for a free write buffer. Elsewhere, or when
/// the call is refused, nothing changes.
/// </summary>
internal static partial class BackgroundThread
{
    private const int PrioProcess = 0, Lowest = 19;

    /// <summary>Whether the calling thread now runs at the lowest priority.</summary>
    public static bool LowerCurrent()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            // On Linux a thread is a task of its own: PRIO_PROCESS with its id reprioritizes that thread only.
            return SetPriority(PrioProcess, GetTid(), Lowest) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The calling thread's nice value (Linux), for tests.</summary>
    public static int CurrentNice()
    {
        Marshal.SetLastPInvokeError(0);
        return GetPriority(PrioProcess, GetTid());
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();
}
