using System.Globalization;
using GgufOptimize.Common;

namespace GgufOptimize.Recipes;

/// <summary>Sizes such as "4.2G", "900M", "512KiB" or "1068768": binary units (K = 1024), as file managers show GiB.</summary>
internal static class ByteSize
{
    public static long Parse(string text, string option)
    {
        string s = text.Trim();
        string number = new(s.TakeWhile(c => char.IsDigit(c) || c == '.').ToArray());
        string unit = s[number.Length..].Trim().ToUpperInvariant().Replace("IB", "").TrimEnd('B');
        int power = unit switch { "" => 0, "K" => 1, "M" => 2, "G" => 3, "T" => 4, _ => -1 };
        if (power < 0 || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0))
            throw GgufOptimizeException.BadInput($"{option} '{text}' is not a size (e.g. 4.2G, 900M, 1068768)");
        return (long)Math.Floor(value * Math.Pow(1024, power));
    }
}
