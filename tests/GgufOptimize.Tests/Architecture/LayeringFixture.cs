// Deliberate violations for LayeringTests: these types break the rules the test gives the checker.
namespace GgufOptimize.Tests.Architecture.Fixture.Metrics;

internal static class ReadsAFile
{
    public static int Length(string path)
    {
        string text = File.ReadAllText(path);
        Console.WriteLine(text);
        return text.Length;
    }
}

internal static class LogsInALambda
{
    public static Action<int> Logger() => value => Console.Error.WriteLine(value * 2);
}

internal static class PureMaths
{
    public static double Square(double x) => x * x;
}
