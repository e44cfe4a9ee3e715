using System.Diagnostics;
using System.Text.Json;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>Runs Python with h5py as an independent HDF5 reader/writer; tests skip when no interpreter has h5py.</summary>
internal static class H5py
{
    private static readonly Lazy<string?> Interpreter = new(FindInterpreter);

    /// <summary>Skips the calling test with a message when h5py is unavailable.</summary>
    public static string RequireInterpreter()
    {
        var python = Interpreter.Value;
        Skip.If(python is null, "python3 with h5py is not installed (apt-get install python3-h5py); skipping the h5py cross-check");
        return python!;
    }

    /// <summary>Runs <paramref name="script"/> with the given arguments; returns stdout, fails the test on a non-zero exit.</summary>
    public static string Run(string script, params string[] args)
    {
        var (code, stdout, stderr) = RunRaw(RequireInterpreter(), script, args);
        Assert.True(code == 0, $"python failed ({code}): {stderr}");
        return stdout;
    }

    /// <summary>Runs a script and parses its stdout as JSON.</summary>
    public static JsonElement Json(string script, params string[] args) => JsonDocument.Parse(Run(script, args)).RootElement;

    private static string? FindInterpreter()
    {
        // A pyenv shim may shadow the Debian interpreter that has python3-h5py.
        foreach (var candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                if (RunRaw(candidate, "import h5py, numpy", []).Code == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return null;
    }

    private static (int Code, string Stdout, string Stderr) RunRaw(string python, string script, string[] args)
    {
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Python that prints every dataset and attribute of the file argv[1] as JSON (values and SHA-256 of raw bytes).</summary>
    public const string DumpScript = """
        import sys, json, hashlib, h5py, numpy as np
        def conv(v):
            if isinstance(v, bytes): return {"py": "bytes", "v": v.decode()}
            if isinstance(v, str): return {"py": "str", "v": v}
            if isinstance(v, np.ndarray):
                items = [conv(x)["v"] for x in v.tolist()] if v.dtype.kind == "O" else v.tolist()
                return {"py": "ndarray", "dtype": v.dtype.str if v.dtype.kind != "O" else "O", "shape": list(v.shape), "v": items,
                        "elem": type(v.flat[0]).__name__ if v.size else None}
            if isinstance(v, np.generic): return {"py": type(v).__name__, "dtype": v.dtype.str, "v": v.item()}
            return {"py": type(v).__name__, "v": v}
        out = {}
        def visit(name, obj):
            entry = {"attrs": {k: conv(obj.attrs[k]) for k in obj.attrs.keys()}}
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                arr = np.asarray(data)
                entry.update(kind="dataset", shape=list(obj.shape), dtype=obj.dtype.str,
                             sha256=hashlib.sha256(arr.tobytes()).hexdigest(),
                             values=arr.ravel().tolist() if arr.size <= 64 else None,
                             contiguous=obj.chunks is None and obj.compression is None)
            else:
                entry["kind"] = "group"
            out["/" + name if name else "/"] = entry
        with h5py.File(sys.argv[1], "r") as f:
            visit("", f)
            f.visititems(visit)
        print(json.dumps(out))
        """;
}
