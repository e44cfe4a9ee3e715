using Xunit.Abstractions;
using Xunit.Sdk;

namespace GgufOptimize.Tests.Support;

/// <summary>
/// Marks a test that takes seconds on a quiet machine (it runs the CLI or llama.cpp over real work, kills and resumes
/// runs, or streams a gigabyte): it carries the trait Category=Slow, so <c>dotnet test --filter "Category!=Slow"</c>
/// is a quick check while the plain command still runs everything.
/// </summary>
[TraitDiscoverer("GgufOptimize.Tests.Support.SlowTraitDiscoverer", "GgufOptimize.Tests")]
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class SlowAttribute : Attribute, ITraitAttribute;

/// <summary>Turns <see cref="SlowAttribute"/> into the trait the test runner filters on.</summary>
public sealed class SlowTraitDiscoverer : ITraitDiscoverer
{
    public const string Name = "Category", Value = "Slow";

    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute) => [new(Name, Value)];
}
