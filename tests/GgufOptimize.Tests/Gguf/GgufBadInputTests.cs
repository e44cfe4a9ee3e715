using System.Buffers.Binary;
using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Gguf;

public class GgufBadInputTests
{
    private static GgufOptimizeException ReadFails(string path)
    {
        var e = Assert.Throws<GgufOptimizeException>(() => GgufFile.Read(path));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain("\n", e.Message);
        return e;
    }

    private static string WriteSmallModel(TempDir dir)
    {
        var w = new GgufWriter();
        w.Metadata.Set("general.architecture", GgufValue.String("llama"));
        w.Metadata.Set("tokens", GgufValue.Array(Enumerable.Range(0, 50).Select(i => "tok" + i)));
        w.AddTensor("a", [64, 4], new float[256]);
        w.AddTensor("b", [64], new float[64]);
        string path = dir.File("ok.gguf");
        w.Write(path);
        return path;
    }

    [Fact]
    public void Missing_file()
    {
        using var dir = new TempDir();
        Assert.Contains("does not exist", ReadFails(dir.File("nope.gguf")).Message);
    }

    [Fact]
    public void Not_a_gguf_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("text.gguf"), "hello, this is not a model at all");
        Assert.Contains("not a GGUF file", ReadFails(dir.File("text.gguf")).Message);
        File.WriteAllBytes(dir.File("empty.gguf"), []);
        Assert.Contains("not a GGUF file", ReadFails(dir.File("empty.gguf")).Message);
    }

    [Fact]
    public void Unsupported_version()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(WriteSmallModel(dir));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        File.WriteAllBytes(dir.File("v1.gguf"), bytes);
        Assert.Contains("version 1", ReadFails(dir.File("v1.gguf")).Message);
    }

    [Fact]
    public void Truncated_anywhere_is_reported()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(WriteSmallModel(dir));
        // Cut inside the header, inside the token array, inside the tensor infos and inside the data.
        foreach (int length in new[] { 10, 60, 400, bytes.Length - 300, bytes.Length - 1 })
        {
            string path = dir.File($"cut{length}.gguf");
            File.WriteAllBytes(path, bytes[..length]);
            var e = ReadFails(path);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("more than"), e.Message);
        }
    }

    [Fact]
    public void Absurd_counts_fail_without_huge_allocations()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(WriteSmallModel(dir));
        var tensors = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(tensors.AsSpan(8), ulong.MaxValue / 2);
        File.WriteAllBytes(dir.File("tensors.gguf"), tensors);
        Assert.Contains("tensors", ReadFails(dir.File("tensors.gguf")).Message);

        var kvs = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(kvs.AsSpan(16), 1L << 40);
        File.WriteAllBytes(dir.File("kv.gguf"), kvs);
        Assert.Contains("metadata entries", ReadFails(dir.File("kv.gguf")).Message);

        // The first key's string length.
        var keyLen = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(keyLen.AsSpan(24), 1L << 50);
        File.WriteAllBytes(dir.File("key.gguf"), keyLen);
        ReadFails(dir.File("key.gguf"));
    }

    [Fact]
    public void Unknown_tensor_type_is_reported()
    {
        using var dir = new TempDir();
        var w = new GgufWriter();
        w.AddTensor("only", [4], new float[4]);
        w.Write(dir.File("one.gguf"));
        var bytes = File.ReadAllBytes(dir.File("one.gguf"));
        // Layout: 24-byte header, name (8 + 4), n_dims (4), ne0 (8), type (4), offset (8).
        int typeAt = 24 + 8 + 4 + 4 + 8;
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(typeAt)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(typeAt), 31);
        File.WriteAllBytes(dir.File("type.gguf"), bytes);
        Assert.Contains("unknown ggml type id 31", ReadFails(dir.File("type.gguf")).Message);
    }
}
