namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// What the selection keeps in memory per candidate: its order, identity and where its text sits in the spill file
/// (about 64 bytes, whatever the text length). <see cref="Tokens"/> is -1 until counted.
/// </summary>
internal readonly record struct HeldSample(OrderKey Key, UInt128 Hash, long SpillOffset, int ByteLength, int Chars, int Tokens)
{
    public bool Spilled => SpillOffset >= 0;
}
