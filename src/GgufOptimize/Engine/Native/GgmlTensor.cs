using System.Runtime.InteropServices;
using System.Text;

namespace GgufOptimize.Engine.Native;

/// <summary>
/// The leading part of ggml's <c>struct ggml_tensor</c> on 64-bit targets (ggml.h at llama.cpp c0c7e147):
/// only the fields the activation capture reads. Never allocated by us; only viewed through a pointer.
/// <c>GgmlTensorLayoutTests</c> checks every offset against ggml's own accessors.
/// </summary>
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct GgmlTensor
{
    public const int MaxSources = 10;
    public const int MaxName = 64;

    [FieldOffset(0)] public int Type;
    [FieldOffset(8)] public IntPtr Buffer;
    /// <summary>Elements per dimension, ne[0] the row length.</summary>
    [FieldOffset(16)] public fixed long Ne[4];
    /// <summary>Stride in bytes per dimension.</summary>
    [FieldOffset(48)] public fixed ulong Nb[4];
    [FieldOffset(80)] public int Op;
    [FieldOffset(152)] public fixed ulong Src[MaxSources];
    [FieldOffset(248)] public void* Data;
    [FieldOffset(256)] public fixed byte Name[MaxName];

    public GgmlTensor* Source(int i)
    {
        fixed (ulong* s = Src) return (GgmlTensor*)s[i];
    }

    /// <summary>The name with any backend decoration removed: <c>CUDA0#blk.0.attn_k.weight#0</c> → <c>blk.0.attn_k.weight</c>.</summary>
    public string WeightName()
    {
        fixed (byte* p = Name)
        {
            var span = new ReadOnlySpan<byte>(p, MaxName);
            int end = span.IndexOf((byte)0);
            if (end >= 0) span = span[..end];
            int hash = span.IndexOf((byte)'#');
            if (hash >= 0)
            {
                span = span[(hash + 1)..];
                int second = span.IndexOf((byte)'#');
                if (second >= 0) span = span[..second];
            }
            return Encoding.UTF8.GetString(span);
        }
    }

    /// <summary>Whether the (undecorated) name starts with <paramref name="prefix"/>, without allocating.</summary>
    public bool NameStartsWith(ReadOnlySpan<byte> prefix)
    {
        fixed (byte* p = Name)
        {
            var span = new ReadOnlySpan<byte>(p, MaxName);
            int end = span.IndexOf((byte)0);
            if (end >= 0) span = span[..end];
            int hash = span.IndexOf((byte)'#');
            if (hash >= 0) span = span[(hash + 1)..];
            return span.StartsWith(prefix);
        }
    }
}
