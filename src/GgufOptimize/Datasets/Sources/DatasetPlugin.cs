using System.Reflection;
using System.Runtime.Loader;
using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Loads a dataset source from a .NET assembly (<c>dataset --plugin path.dll</c>, the counterpart of
/// llama-gguf-optimize's <c>--datasource-plugin file.py --plugin-class</c>). The plugin gets its own load context, so
/// its dependencies do not clash with ours, but <see cref="IDatasetSource"/> and the types of its signature come from
/// this library (the one already loaded), or the plugin's type would implement a different interface of the same name.
/// </summary>
internal static class DatasetPlugin
{
    /// <param name="path">The plugin assembly.</param>
    /// <param name="typeName">Full or short name of the type to use; needed only when the assembly has several sources.</param>
    /// <param name="argument">Passed to a constructor taking one string, when the type has one (--plugin-arg).</param>
    public static IDatasetSource Load(string path, string? typeName, string? argument)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw GgufOptimizeException.BadInput($"--plugin '{path}' does not exist");
        Assembly assembly;
        try
        {
            assembly = new PluginLoadContext(full).LoadFromAssemblyPath(full);
        }
        catch (BadImageFormatException)
        {
            throw GgufOptimizeException.BadInput($"--plugin '{path}' is not a .NET assembly");
        }
        Type[] candidates;
        try
        {
            candidates = assembly.GetExportedTypes()
                .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IDatasetSource).IsAssignableFrom(t)).ToArray();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException)
        {
            throw GgufOptimizeException.BadInput($"--plugin '{path}' cannot be loaded: {e.Message} (build it against this version of GgufOptimize)");
        }
        var chosen = typeName is null ? candidates : candidates.Where(t => t.FullName == typeName || t.Name == typeName).ToArray();
        if (chosen.Length != 1)
        {
            string found = candidates.Length == 0 ? "none" : string.Join(", ", candidates.Select(t => t.FullName));
            throw GgufOptimizeException.BadInput(typeName is null
                ? $"--plugin '{path}' must export exactly one public class implementing IDatasetSource (found: {found}); name one with --plugin-class"
                : $"--plugin-class '{typeName}' is not a public class implementing IDatasetSource in '{path}' (found: {found})");
        }
        return Create(chosen[0], argument, path);
    }

    private static IDatasetSource Create(Type type, string? argument, string path)
    {
        var withArgument = type.GetConstructor([typeof(string)]);
        var bare = type.GetConstructor(Type.EmptyTypes);
        if (argument is not null && withArgument is null)
            throw GgufOptimizeException.BadInput($"--plugin-arg was given but {type.FullName} in '{path}' has no public constructor taking one string");
        try
        {
            object instance = withArgument is not null && (argument is not null || bare is null)
                ? withArgument.Invoke([argument])
                : bare?.Invoke([]) ?? throw GgufOptimizeException.BadInput($"{type.FullName} in '{path}' needs a public constructor taking nothing or one string");
            return (IDatasetSource)instance;
        }
        catch (TargetInvocationException e) when (e.InnerException is GgufOptimizeException inner)
        {
            throw inner;
        }
        catch (TargetInvocationException e)
        {
            throw GgufOptimizeException.BadInput($"--plugin '{path}': {type.FullName} failed to start: {e.InnerException?.Message ?? e.Message}");
        }
    }

    /// <summary>Resolves the plugin's own dependencies from its folder; everything this process already has comes from the default context.</summary>
    private sealed class PluginLoadContext(string pluginPath) : AssemblyLoadContext($"dataset-plugin:{Path.GetFileName(pluginPath)}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(pluginPath);

        protected override Assembly? Load(AssemblyName name)
        {
            if (Default.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name))) return null;
            if (name.Name is "GgufOptimize") return null;
            return _resolver.ResolveAssemblyToPath(name) is { } file ? LoadFromAssemblyPath(file) : null;
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } file ? LoadUnmanagedDllFromPath(file) : IntPtr.Zero;
    }
}
