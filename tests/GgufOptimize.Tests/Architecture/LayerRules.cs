using Mono.Cecil;
using Mono.Cecil.Cil;

namespace GgufOptimize.Tests.Architecture;

/// <summary>A namespace (and its sub-namespaces) that must not reference any type under the forbidden prefixes.</summary>
/// <param name="Layer">Namespace prefix the rule applies to ("GgufOptimize" = the whole library).</param>
/// <param name="Forbidden">Namespace or full type-name prefixes the layer must not reference.</param>
/// <param name="Why">The rule in words, shown with each violation.</param>
public sealed record LayerRule(string Layer, string[] Forbidden, string Why);

/// <summary>One reference that breaks a rule: which type, what it referenced, and through what (signature or IL).</summary>
public sealed record LayerViolation(LayerRule Rule, string FromType, string ToType, string Via)
{
    public override string ToString() => $"{FromType} → {ToType} (via {Via}): {Rule.Why}";
}

/// <summary>
/// Checks layering rules on a compiled assembly: every type reference in base types, interfaces, fields, method
/// signatures, locals and IL operands (calls, field accesses, type tokens) counts, including those of compiler
/// generated closures, which belong to the namespace of their outermost type.
/// </summary>
public static class LayerRules
{
    /// <summary>The project's rules (docs/architecture.md).</summary>
    public static readonly LayerRule[] Project =
    [
        new("GgufOptimize", ["System.Console", "GgufOptimize.Cli", "Spectre.Console", "System.CommandLine"],
            "the library never writes to the console and knows no CLI"),
        new("GgufOptimize.Metrics", ["System.IO", "GgufOptimize.Engine", "LLama", "GgufOptimize.Storage", "GgufOptimize.Gguf", "PureHDF"],
            "Metrics is pure maths: no I/O, never calls llama.cpp"),
        new("GgufOptimize.Storage", ["GgufOptimize.Engine", "LLama", "GgufOptimize.Kld", "GgufOptimize.Logits", "GgufOptimize.Imatrix", "GgufOptimize.Workflow", "GgufOptimize.Reporting", "GgufOptimize.Merging", "GgufOptimize.Recipes"],
            "Storage reads and writes files, never runs a model (it takes ready chunk tokens)"),
        new("GgufOptimize.Chunking", ["GgufOptimize.Engine", "LLama", "GgufOptimize.Kld", "GgufOptimize.Logits", "GgufOptimize.Workflow", "GgufOptimize.Merging", "GgufOptimize.Recipes"],
            "chunk rules take tokens, they run no model"),
        new("GgufOptimize.Engine", ["GgufOptimize.Kld", "GgufOptimize.Logits", "GgufOptimize.Imatrix", "GgufOptimize.Quantization", "GgufOptimize.Workflow", "GgufOptimize.Reporting", "GgufOptimize.Datasets", "GgufOptimize.Storage", "GgufOptimize.Metrics", "GgufOptimize.Merging", "GgufOptimize.Recipes", "GgufOptimize.Tuning"],
            "the engine knows no commands: it runs llama.cpp for whoever calls it"),
        new("GgufOptimize.Tuning", ["GgufOptimize.Kld", "GgufOptimize.Logits", "GgufOptimize.Imatrix", "GgufOptimize.Quantization", "GgufOptimize.Workflow", "GgufOptimize.Reporting", "GgufOptimize.Datasets", "GgufOptimize.Merging", "GgufOptimize.Recipes", "GgufOptimize.Storage", "LLama"],
            "tuning times the engine for any command, knows none of them, and calls llama.cpp only through Engine"),
        new("GgufOptimize.Reporting", ["GgufOptimize.Engine", "LLama", "GgufOptimize.Workflow", "GgufOptimize.Quantization", "GgufOptimize.Imatrix", "GgufOptimize.Logits"],
            "Reporting reads results, not models"),
    ];

    public static IReadOnlyList<LayerViolation> Check(string assemblyPath, IReadOnlyList<LayerRule> rules)
    {
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath);
        var violations = new List<LayerViolation>();
        foreach (var type in assembly.MainModule.GetTypes())
        {
            string from = NamespaceOf(type);
            var applicable = rules.Where(r => Under(from, r.Layer)).ToList();
            if (applicable.Count == 0) continue;
            foreach (var (target, via) in References(type))
            {
                string name = FullName(target);
                foreach (var rule in applicable)
                    if (rule.Forbidden.Any(f => Under(name, f)))
                        violations.Add(new LayerViolation(rule, Outermost(type).FullName, name, via));
            }
        }
        return violations.DistinctBy(v => (v.Rule, v.FromType, v.ToType)).ToList();
    }

    /// <summary>For each namespace of the assembly, the namespaces it references (for docs and for reviewing rules).</summary>
    public static IReadOnlyDictionary<string, SortedSet<string>> Graph(string assemblyPath, string prefix)
    {
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath);
        var graph = new SortedDictionary<string, SortedSet<string>>();
        foreach (var type in assembly.MainModule.GetTypes())
        {
            string from = NamespaceOf(type);
            if (!graph.TryGetValue(from, out var set)) graph[from] = set = [];
            foreach (var (target, _) in References(type))
            {
                string ns = NamespaceOf(target);
                if (ns != from && Under(ns, prefix)) set.Add(ns);
            }
        }
        return graph;
    }

    private static bool Under(string name, string prefix) =>
        name == prefix || name.StartsWith(prefix + ".", StringComparison.Ordinal);

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }

    private static string NamespaceOf(TypeReference type) => Outermost(type).Namespace;

    private static string FullName(TypeReference type)
    {
        var outer = Outermost(type);
        return outer.Namespace.Length == 0 ? outer.Name : $"{outer.Namespace}.{outer.Name}";
    }

    private static IEnumerable<(TypeReference, string)> References(TypeDefinition type)
    {
        IEnumerable<(TypeReference, string)> Expand(TypeReference? t, string via) => Flatten(t).Select(x => (x, via));

        foreach (var r in Expand(type.BaseType, "base type")) yield return r;
        foreach (var i in type.Interfaces)
            foreach (var r in Expand(i.InterfaceType, "interface")) yield return r;
        foreach (var field in type.Fields)
            foreach (var r in Expand(field.FieldType, $"field {field.Name}")) yield return r;
        foreach (var method in type.Methods)
        {
            string where = $"{method.Name}";
            foreach (var r in Expand(method.ReturnType, $"{where} return")) yield return r;
            foreach (var p in method.Parameters)
                foreach (var r in Expand(p.ParameterType, $"{where} parameter")) yield return r;
            if (!method.HasBody) continue;
            foreach (var v in method.Body.Variables)
                foreach (var r in Expand(v.VariableType, $"{where} local")) yield return r;
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        foreach (var r in Expand(t, $"{where} IL")) yield return r;
                        break;
                    case MethodReference m:
                        foreach (var r in Expand(m.DeclaringType, $"{where} calls {m.Name}")) yield return r;
                        foreach (var r in Expand(m.ReturnType, $"{where} calls {m.Name}")) yield return r;
                        foreach (var p in m.Parameters)
                            foreach (var r in Expand(p.ParameterType, $"{where} calls {m.Name}")) yield return r;
                        if (m is GenericInstanceMethod g)
                            foreach (var a in g.GenericArguments)
                                foreach (var r in Expand(a, $"{where} calls {m.Name}")) yield return r;
                        break;
                    case FieldReference f:
                        foreach (var r in Expand(f.DeclaringType, $"{where} uses field {f.Name}")) yield return r;
                        foreach (var r in Expand(f.FieldType, $"{where} uses field {f.Name}")) yield return r;
                        break;
                }
            }
        }
    }

    /// <summary>The named types inside a type reference: generic arguments, array and pointer elements.</summary>
    private static IEnumerable<TypeReference> Flatten(TypeReference? type)
    {
        switch (type)
        {
            case null or GenericParameter:
                yield break;
            case GenericInstanceType g:
                foreach (var t in Flatten(g.ElementType)) yield return t;
                foreach (var a in g.GenericArguments)
                    foreach (var t in Flatten(a)) yield return t;
                yield break;
            case TypeSpecification s:
                foreach (var t in Flatten(s.ElementType)) yield return t;
                yield break;
            default:
                yield return type;
                yield break;
        }
    }
}
