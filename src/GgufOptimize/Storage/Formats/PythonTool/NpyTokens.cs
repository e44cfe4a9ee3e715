using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats.PythonTool;

/// <summary>
/// Reads the token cache generate_logits.py leaves next to its dataset (<c>DATASET.tokens.npy</c>, numpy's .npy of a
/// one-dimensional little-endian int32/int64 array): the exact tokens the tool used, so no re-tokenizing is needed.
/// </summary>
internal static partial class NpyTokens
{
    public static int[] Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw GgufOptimizeException.BadInput($"'{path}' is not a numpy .npy file");
        int major = bytes[6];
        int headerLength, start;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); start = 10; }
        else { headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)); start = 12; }
        if (start + headerLength > bytes.Length) throw GgufOptimizeException.BadInput($"'{path}': truncated .npy header");
        string header = Encoding.Latin1.GetString(bytes, start, headerLength);
        var descr = Descr().Match(header);
        var shape = Shape().Match(header);
        if (!descr.Success || !shape.Success || header.Contains("'fortran_order': True"))
            throw GgufOptimizeException.BadInput($"'{path}': unsupported .npy header {header.Trim()}");
        string type = descr.Groups[1].Value;
        int width = type switch { "<i8" => 8, "<i4" => 4, _ => throw GgufOptimizeException.BadInput($"'{path}': tokens of type {type}, expected <i8 or <i4") };
        long count = long.Parse(shape.Groups[1].Value);
        int data = start + headerLength;
        if (data + count * width != bytes.Length) throw GgufOptimizeException.BadInput($"'{path}': {count} tokens of {width} bytes do not fill the file");
        var tokens = new int[count];
        for (long i = 0; i < count; i++)
            tokens[i] = width == 8 ? checked((int)BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(data + (int)(i * 8))))
                                   : BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(data + (int)(i * 4)));
        return tokens;
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex Descr();

    [GeneratedRegex(@"'shape':\s*\((\d+),?\)")]
    private static partial Regex Shape();
}
