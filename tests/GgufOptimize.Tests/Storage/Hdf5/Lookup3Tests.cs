using System.Text;
using GgufOptimize.Storage.Hdf5.Format;

namespace GgufOptimize.Tests.Storage.Hdf5;

public class Lookup3Tests
{
    [Theory]
    [InlineData("", 0u, 0xdeadbeefu)]
    [InlineData("Four score and seven years ago", 0u, 0x17770551u)]
    [InlineData("Four score and seven years ago", 1u, 0xcd628161u)]
    public void Hash_matches_the_published_lookup3_test_vectors(string text, uint initValue, uint expected) =>
        Assert.Equal(expected, Lookup3.Hash(Encoding.ASCII.GetBytes(text), initValue));
}
