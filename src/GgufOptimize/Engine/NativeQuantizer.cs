using System.Runtime.InteropServices;
using System.Text;
using GgufOptimize.Common;
using GgufOptimize.Engine.Native;

namespace GgufOptimize.Engine;

/// <summary>Runs llama.cpp's own quantizer in-process (what llama-quantize does after parsing its arguments).</summary>
internal static unsafe class NativeQuantizer
{
    /// <summary>GGML_TYPE_COUNT of the loaded library.</summary>
    public static int GgmlTypeCount => NativeLayout.GgmlTypeCount;

    public static NativeQuantizeResult Run(NativeQuantizeRequest request)
    {
        NativeLayout.VerifyQuantizeParams();
        var log = new StringBuilder();
        var memory = new List<IntPtr>();
        var pins = new List<GCHandle>();
        try
        {
            var p = new LlamaQuantizeApi.QuantizeParams
            {
                NThread = request.Threads > 0 ? request.Threads : Hardware.PhysicalCores,
                FileType = request.FileType,
                OutputTensorType = request.OutputTensorType ?? GgmlTypeCount,
                TokenEmbeddingType = request.TokenEmbeddingType ?? GgmlTypeCount,
                AllowRequantize = Flag(request.AllowRequantize),
                QuantizeOutputTensor = Flag(request.QuantizeOutputTensor),
                OnlyCopy = Flag(request.OnlyCopy),
                Pure = Flag(request.Pure),
                KeepSplit = 0,
                DryRun = Flag(request.DryRun),
            };
            if (request.Imatrix.Count > 0)
            {
                var entries = Alloc<LlamaQuantizeApi.ImatrixData>(request.Imatrix.Count + 1, memory);
                for (int i = 0; i < request.Imatrix.Count; i++)
                {
                    var (name, values) = (request.Imatrix[i].Key, request.Imatrix[i].Value);
                    var pin = GCHandle.Alloc(values, GCHandleType.Pinned);
                    pins.Add(pin);
                    entries[i] = new LlamaQuantizeApi.ImatrixData { Name = Utf8(name, memory), Data = (float*)pin.AddrOfPinnedObject(), Size = (nuint)values.Length };
                }
                entries[request.Imatrix.Count] = default;
                p.Imatrix = entries;
            }
            if (request.TensorTypes.Count > 0)
            {
                var overrides = Alloc<LlamaQuantizeApi.TensorTypeOverride>(request.TensorTypes.Count + 1, memory);
                for (int i = 0; i < request.TensorTypes.Count; i++)
                    overrides[i] = new LlamaQuantizeApi.TensorTypeOverride { Pattern = Utf8(request.TensorTypes[i].Key, memory), Type = request.TensorTypes[i].Value };
                overrides[request.TensorTypes.Count] = new LlamaQuantizeApi.TensorTypeOverride { Pattern = null, Type = GgmlTypeCount };
                p.TensorTypes = overrides;
            }
            if (request.Metadata.Count > 0)
            {
                var kv = Alloc<LlamaQuantizeApi.KvOverride>(request.Metadata.Count + 1, memory);
                for (int i = 0; i < request.Metadata.Count; i++) kv[i] = KvEntry(request.Metadata[i].Key, request.Metadata[i].Value);
                kv[request.Metadata.Count] = default; // empty key ends the list
                p.KvOverrides = kv;
            }

            byte* input = Utf8(request.InputPath, memory);
            byte* output = Utf8(request.OutputPath, memory);
            uint status;
            NativeRuntime.ClearNativeErrors();
            using (NativeRuntime.ListenOnThisThread((_, text) =>
                   {
                       log.Append(text);
                       if (request.OnTensor is { } onTensor && TensorCounter(text) is var (index, count)) onTensor(index, count);
                   }))
                status = LlamaQuantizeApi.llama_model_quantize(input, output, &p);
            return new NativeQuantizeResult(status == 0, log.ToString());
        }
        finally
        {
            foreach (var pin in pins) pin.Free();
            foreach (var block in memory) NativeMemory.Free((void*)block);
        }
    }

    /// <summary>Reads "[  12/ 291] name …", the line llama.cpp logs as it starts a tensor.</summary>
    private static (int Index, int Count)? TensorCounter(string text)
    {
        var s = text.AsSpan();
        if (s.Length < 5 || s[0] != '[') return null;
        int slash = s.IndexOf('/'), close = s.IndexOf(']');
        if (slash < 0 || close < slash) return null;
        return int.TryParse(s[1..slash].Trim(), out int index) && int.TryParse(s[(slash + 1)..close].Trim(), out int count) ? (index, count) : null;
    }

    private static LlamaQuantizeApi.KvOverride KvEntry(string key, object value)
    {
        var entry = new LlamaQuantizeApi.KvOverride();
        CopyText(key, entry.Key, "metadata key");
        switch (value)
        {
            case string text:
                entry.Tag = LlamaQuantizeApi.KvOverrideString;
                // llama-quantize keeps the first 127 bytes of a long value (the field is fixed-size).
                CopyText(text, entry.StringValue, null);
                break;
            case int or long or uint:
                entry.Tag = LlamaQuantizeApi.KvOverrideInt;
                entry.IntValue = Convert.ToInt64(value);
                break;
            default:
                throw new ArgumentException($"metadata value for '{key}' must be a string or an integer");
        }
        return entry;
    }

    private static void CopyText(string text, byte* target, string? failIfLongerWhat)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        int max = LlamaQuantizeApi.KvOverrideTextBytes - 1;
        if (bytes.Length > max && failIfLongerWhat is not null)
            throw new ArgumentException($"{failIfLongerWhat} '{text}' is longer than {max} bytes");
        int n = Math.Min(bytes.Length, max);
        // Cut at a character boundary so the stored text stays valid UTF-8.
        while (n > 0 && n < bytes.Length && (bytes[n] & 0xC0) == 0x80) n--;
        bytes.AsSpan(0, n).CopyTo(new Span<byte>(target, n));
        target[n] = 0;
    }

    private static byte Flag(bool value) => value ? (byte)1 : (byte)0;

    private static T* Alloc<T>(int count, List<IntPtr> memory) where T : unmanaged
    {
        var block = (T*)NativeMemory.AllocZeroed((nuint)count, (nuint)sizeof(T));
        memory.Add((IntPtr)block);
        return block;
    }

    private static byte* Utf8(string text, List<IntPtr> memory)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        var block = (byte*)NativeMemory.Alloc((nuint)n + 1);
        memory.Add((IntPtr)block);
        Encoding.UTF8.GetBytes(text, new Span<byte>(block, n));
        block[n] = 0;
        return block;
    }

    /// <summary>ggml's own name of a type id ("q4_K", "f16"), or null for an id the library does not know.</summary>
    public static string? TypeName(int type)
    {
        NativeRuntime.Initialize();
        if (type < 0 || type >= GgmlTypeCount) return null;
        string name = GgmlApi.Utf8(GgmlApi.ggml_type_name(type));
        return name.Length == 0 || name == "NONE" ? null : name;
    }

    /// <summary>Block size (elements) and bytes per block of a ggml type, from the library itself.</summary>
    public static (long BlockSize, long TypeSize) TypeLayout(int type)
    {
        NativeRuntime.Initialize();
        return (GgmlApi.ggml_blck_size(type), (long)GgmlApi.ggml_type_size(type));
    }

    /// <summary>
    /// Whether ggml's quantizer asserts on this tensor type without an importance matrix (ggml's own list; llama.cpp
    /// refuses more, see Quantization.ImatrixRequirement).
    /// </summary>
    public static bool RequiresImatrix(int type)
    {
        NativeRuntime.Initialize();
        return AskGgmlRequiresImatrix(type);
    }

    // A separate, never-inlined method: a SuppressGCTransition P/Invoke is bound when its caller is compiled, which
    // must happen after Initialize has installed the resolver that finds ggml-base (or the first call in a process fails).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool AskGgmlRequiresImatrix(int type) => GgmlApi.ggml_quantize_requires_imatrix(type) != 0;
}
