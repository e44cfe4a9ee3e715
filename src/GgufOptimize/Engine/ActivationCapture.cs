using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GgufOptimize.Common;
using GgufOptimize.Engine.Native;

namespace GgufOptimize.Engine;

/// <summary>
/// Watches llama.cpp's graph evaluation through <c>cb_eval</c> and measures the inputs of weight matrix
/// multiplications, as llama-imatrix does: for every MUL_MAT whose weight is a <c>blk.*</c> tensor (and
/// <c>output.weight</c> when asked) and whose F32 activations have at least 16 rows, and for every MUL_MAT_ID
/// (mixture of experts, per expert through the routing ids), the per-column sums of squared activations.
/// </summary>
/// <remarks>
/// Every matrix the scheduler is asked to hand over splits its graph there, which costs time. Several weights
/// often read the very same activations (attn_q/k/v, ffn_gate/up); when a weight's input is the tensor just
/// captured and nothing has been computed into that memory since, its statistics are known already and the
/// capture answers "not needed" and adds them directly. The result is identical; the graph is split less often.
/// </remarks>
internal sealed unsafe class ActivationCapture : IDisposable
{
    private const int MinRows = 16;
    private const int TypeF32 = 0;

    private static readonly byte[] BlockPrefix = "blk."u8.ToArray();
    private static readonly OpKind[] Kinds = new OpKind[1024];

    private readonly IActivationSink _sink;
    private readonly bool _includeOutput;
    private GCHandle _self;

    private double[] _squares = new double[4096];
    private long[] _rows = new long[1];
    private byte[] _hostCopy = [];
    private byte[] _ids = [];

    // The last dense capture, which later weights reading the same activations can reuse.
    private GgmlTensor* _cachedInput;
    private byte* _cachedStart, _cachedEnd;
    private double[] _cachedSquares = [];
    private int _cachedWidth;
    private long _cachedRows;

    public ActivationCapture(IActivationSink sink, bool includeOutput)
    {
        NativeLayout.VerifyTensor();
        _sink = sink;
        _includeOutput = includeOutput;
        _self = GCHandle.Alloc(this);
    }

    /// <summary>Answer weights that read an input captured just before from that capture (see remarks). On by default; off only to measure what it saves.</summary>
    internal bool ReuseSharedInputs { get; init; } = true;

    /// <summary>Set when the capture stopped the evaluation (a non-finite activation, an inconsistent tensor).</summary>
    public string? Failure { get; private set; }

    /// <summary>The weight whose input was non-finite, when that is why <see cref="Failure"/> is set.</summary>
    public string? NonFiniteWeight { get; private set; }

    /// <summary>How many graph splits were requested and how many were answered from an identical earlier capture.</summary>
    public long Captured { get; private set; }
    public long Reused { get; private set; }

    /// <summary>A context whose evaluation reports to this capture.</summary>
    public LlamaEvaluator CreateEvaluator(LlamaModel model, EvaluatorOptions options)
    {
        delegate* unmanaged[Cdecl]<GgmlTensor*, byte, IntPtr, byte> callback = &OnEval;
        return new LlamaEvaluator(model, options, (IntPtr)callback, GCHandle.ToIntPtr(_self));
    }

    public void Dispose()
    {
        if (_self.IsAllocated) _self.Free();
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte OnEval(GgmlTensor* t, byte ask, IntPtr userData)
    {
        var self = (ActivationCapture)GCHandle.FromIntPtr(userData).Target!;
        if (self.Failure is not null) return 0;
        try
        {
            return ask != 0 ? (self.Ask(t) ? (byte)1 : (byte)0) : (self.Collect(t) ? (byte)1 : (byte)0);
        }
        catch (Exception e)
        {
            // Nothing may unwind into native code: stop the graph and report after llama_decode returns.
            self.Failure = $"activation capture failed: {e.Message}";
            return 0;
        }
    }

    private bool Ask(GgmlTensor* t)
    {
        var kind = KindOf(t->Op);
        if (_cachedInput != null && (t == _cachedInput || (kind != OpKind.NoWrite && Overlaps(t)))) _cachedInput = null;
        if (kind == OpKind.MulMatId) return true;
        if (kind != OpKind.MulMat) return false;

        var weight = t->Source(0);
        var input = t->Source(1);
        if (input->Ne[1] < MinRows || input->Type != TypeF32) return false;
        if (!IsCapturedWeight(weight)) return false;

        if (ReuseSharedInputs && _cachedInput == input && (byte*)input->Data == _cachedStart && weight->Ne[2] * weight->Ne[3] == 1 && input->Ne[0] == _cachedWidth)
        {
            _sink.Add(weight->WeightName(), _cachedSquares.AsSpan(0, _cachedWidth), new ReadOnlySpan<long>(in _cachedRows));
            Reused++;
            return false;
        }
        return true;
    }

    private bool IsCapturedWeight(GgmlTensor* weight)
    {
        if (weight->NameStartsWith(BlockPrefix)) return true;
        return _includeOutput && weight->WeightName() == "output.weight";
    }

    private bool Overlaps(GgmlTensor* node)
    {
        var start = (byte*)node->Data;
        if (start == null) return false;
        var end = start + (long)GgmlApi.ggml_nbytes(node);
        return start < _cachedEnd && _cachedStart < end;
    }

    private bool Collect(GgmlTensor* t)
    {
        Captured++;
        var weight = t->Source(0);
        var input = t->Source(1);
        string name = weight->WeightName();
        byte* data = HostData(input);
        bool ok = KindOf(t->Op) == OpKind.MulMatId ? CollectExperts(t, weight, input, data, name) : CollectDense(weight, input, data, name);
        return ok;
    }

    private bool CollectDense(GgmlTensor* weight, GgmlTensor* input, byte* data, string name)
    {
        long matrices = weight->Ne[2] * weight->Ne[3];
        int width = checked((int)input->Ne[0]);
        int total = checked((int)(width * matrices));
        var squares = Squares(total);
        long nb0 = (long)input->Nb[0], nb1 = (long)input->Nb[1], nb2 = (long)input->Nb[2], nb3 = (long)input->Nb[3];
        fixed (double* sums = squares)
        {
            for (long i3 = 0; i3 < input->Ne[3]; i3++)
            for (long i2 = 0; i2 < input->Ne[2]; i2++)
            {
                // 3-D activations against a 2-D weight are flattened onto it, as llama-imatrix does.
                long matrix = (i3 % weight->Ne[3]) * weight->Ne[2] + (i2 % weight->Ne[2]);
                double* target = sums + matrix * width;
                for (long row = 0; row < input->Ne[1]; row++)
                    AddSquares(data + row * nb1 + i2 * nb2 + i3 * nb3, nb0, width, target);
            }
        }
        long rows = input->Ne[1] * input->Ne[2] * input->Ne[3] / matrices;
        if (!AllFinite(squares.AsSpan(0, total), name)) return false;
        _rows[0] = rows;
        _sink.Add(name, squares.AsSpan(0, total), _rows.AsSpan(0, 1));

        // Only a tensor computed by a node of this graph can be reused: before anything recomputes it (the next
        // micro-batch included), that node is asked for, which forgets the cache.
        if (matrices == 1 && KindOf(input->Op) is OpKind.Other or OpKind.MulMat or OpKind.MulMatId)
        {
            if (_cachedSquares.Length < width) _cachedSquares = new double[width];
            squares.AsSpan(0, width).CopyTo(_cachedSquares);
            _cachedWidth = width;
            _cachedRows = rows;
            _cachedInput = input;
            _cachedStart = (byte*)input->Data;
            _cachedEnd = _cachedStart + (long)GgmlApi.ggml_nbytes(input);
        }
        return true;
    }

    private bool CollectExperts(GgmlTensor* node, GgmlTensor* weight, GgmlTensor* input, byte* data, string name)
    {
        // ids: [n_expert_used, n_tokens] int32, input: [cols, n_expert_used or 1, n_tokens]
        var ids = node->Source(2);
        long experts = weight->Ne[2];
        long used = ids->Ne[0];
        if (ids->Ne[1] != input->Ne[2] || input->Ne[3] != 1)
        {
            Failure = $"unexpected MUL_MAT_ID shapes for {name}";
            return false;
        }
        int width = checked((int)input->Ne[0]);
        int total = checked((int)(width * experts));
        var squares = Squares(total);
        if (_rows.Length < experts) _rows = new long[experts];
        Array.Clear(_rows, 0, (int)experts);

        int idBytes = checked((int)GgmlApi.ggml_nbytes(ids));
        if (_ids.Length < idBytes) _ids = new byte[idBytes];
        long nb0 = (long)input->Nb[0], nb1 = (long)input->Nb[1], nb2 = (long)input->Nb[2];
        fixed (byte* idData = _ids)
        fixed (double* sums = squares)
        {
            GgmlApi.ggml_backend_tensor_get(ids, idData, 0, (nuint)idBytes);
            for (long slot = 0; slot < used; slot++)
            for (long token = 0; token < input->Ne[2]; token++)
            {
                int expert = *(int*)(idData + token * (long)ids->Nb[1] + slot * (long)ids->Nb[0]);
                if (expert < 0 || expert >= experts)
                {
                    Failure = $"expert id {expert} out of range for {name}";
                    return false;
                }
                byte* row = data + (slot % input->Ne[1]) * nb1 + token * nb2;
                AddSquares(row, nb0, width, sums + (long)expert * width);
                _rows[expert]++;
            }
        }
        if (!AllFinite(squares.AsSpan(0, total), name)) return false;
        _sink.Add(name, squares.AsSpan(0, total), _rows.AsSpan(0, (int)experts));
        return true;
    }

    /// <summary>The activations in host memory: in place when they are, copied out of a device buffer otherwise.</summary>
    private byte* HostData(GgmlTensor* input)
    {
        if (input->Buffer == IntPtr.Zero || GgmlApi.ggml_backend_buffer_is_host(input->Buffer) != 0) return (byte*)input->Data;
        long bytes = (long)GgmlApi.ggml_nbytes(input);
        if (_hostCopy.Length < bytes)
            _hostCopy = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        fixed (byte* copy = _hostCopy)
        {
            GgmlApi.ggml_backend_tensor_get(input, copy, 0, (nuint)bytes);
            return copy; // pinned array: the address stays valid after the fixed block
        }
    }

    private double[] Squares(int length)
    {
        if (_squares.Length < length) _squares = new double[Math.Max(length, _squares.Length * 2)];
        Array.Clear(_squares, 0, length);
        return _squares;
    }

    private bool AllFinite(ReadOnlySpan<double> squares, string name)
    {
        // Sums of squares are never negative, so their total is finite exactly when every one of them is.
        double total = 0;
        foreach (var v in squares) total += v;
        if (double.IsFinite(total)) return true;
        NonFiniteWeight = name;
        Failure = $"non-finite activation in the input of {name}";
        return false;
    }

    /// <summary>sums[j] += x[j]² over one activation row (elements <paramref name="stride"/> bytes apart).</summary>
    internal static void AddSquares(byte* row, long stride, int width, double* sums)
    {
        if (stride != sizeof(float))
        {
            for (int j = 0; j < width; j++)
            {
                double x = *(float*)(row + j * stride);
                sums[j] += x * x;
            }
            return;
        }
        var x32 = (float*)row;
        int i = 0;
        if (Vector.IsHardwareAccelerated && width >= Vector<float>.Count)
        {
            int half = Vector<double>.Count;
            for (; i <= width - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Unsafe.ReadUnaligned<Vector<float>>(x32 + i);
                Vector.Widen(v, out Vector<double> lo, out Vector<double> hi);
                var s0 = Unsafe.ReadUnaligned<Vector<double>>(sums + i);
                var s1 = Unsafe.ReadUnaligned<Vector<double>>(sums + i + half);
                Unsafe.WriteUnaligned(sums + i, s0 + lo * lo);
                Unsafe.WriteUnaligned(sums + i + half, s1 + hi * hi);
            }
        }
        for (; i < width; i++)
        {
            double x = x32[i];
            sums[i] += x * x;
        }
    }

    private enum OpKind : byte { Unknown, Other, NoWrite, MulMat, MulMatId }

    private static OpKind KindOf(int op)
    {
        if ((uint)op >= Kinds.Length) return OpKind.Other;
        var kind = Kinds[op];
        if (kind != OpKind.Unknown) return kind;
        kind = GgmlApi.Utf8(GgmlApi.ggml_op_name(op)) switch
        {
            "MUL_MAT" => OpKind.MulMat,
            "MUL_MAT_ID" => OpKind.MulMatId,
            "NONE" or "VIEW" or "RESHAPE" or "PERMUTE" or "TRANSPOSE" => OpKind.NoWrite,
            _ => OpKind.Other,
        };
        Kinds[op] = kind;
        return kind;
    }
}
