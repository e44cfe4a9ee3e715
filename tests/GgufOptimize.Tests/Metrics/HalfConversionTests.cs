using GgufOptimize.Common;

namespace GgufOptimize.Tests.Metrics;

public class HalfConversionTests
{
    [Fact]
    // TensorPrimitives.ConvertToSingle replaced a hand-rolled widening: this proves it bit-exact on every half.
    public void Every_half_bit_pattern_widens_exactly_like_the_runtime_cast()
    {
        var halves = new Half[65536 + 5]; // odd length exercises the scalar tail
        for (int i = 0; i < halves.Length; i++) halves[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        var floats = new float[halves.Length];
        HalfConversion.ToSingle(halves, floats);
        for (int i = 0; i < halves.Length; i++)
        {
            float expected = (float)halves[i];
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(floats[i]), $"bits {i:X4}");
            else Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(floats[i]));
        }
    }

    [Fact]
    public void Short_destination_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => HalfConversion.ToSingle(new Half[4], new float[3]));
    }
}
