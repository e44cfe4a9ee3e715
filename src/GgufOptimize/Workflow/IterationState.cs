using System.Text.Json;
using System.Text.Json.Serialization;
using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Workflow;

/// <summary>
/// <c>state.json</c> in the output folder: for every step of the loop, the identity of its inputs, whether it is
/// finished, and the files it made (size, time and SHA-256). A step is recorded as started before it writes
/// anything and as done after its outputs are in place, and the file is replaced atomically each time, so after a
/// kill the same command reuses every finished step, lets an interrupted one resume its own partial files, and
/// discards outputs made from other inputs.
/// </summary>
internal sealed class IterationState
{
    public const string FileName = "state.json";
    private const string FormatName = "gguf-optimize-iterate-1";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly string _folder;
    private readonly Document _doc;

    public sealed class Document
    {
        public string Format { get; set; } = FormatName;
        public SortedDictionary<string, StepRecord> Steps { get; set; } = new(StringComparer.Ordinal);
    }

    public sealed class StepRecord
    {
        public string Inputs { get; set; } = "";
        public bool Done { get; set; }
        public List<ArtifactRecord> Outputs { get; set; } = [];
        public SortedDictionary<string, double>? Values { get; set; }
    }

    /// <summary>A file a step made, by its path relative to the output folder.</summary>
    public sealed class ArtifactRecord
    {
        public string Path { get; set; } = "";
        public long Bytes { get; set; }
        public long WriteTicks { get; set; }
        public string Sha256 { get; set; } = "";
    }

    private IterationState(string folder, Document doc)
    {
        _folder = folder;
        _doc = doc;
    }

    public string Folder => _folder;

    public static IterationState Open(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return new IterationState(folder, new Document());
        Document? doc;
        try { doc = JsonSerializer.Deserialize<Document>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw GgufOptimizeException.BadInput($"state file '{path}' is unreadable ({e.Message}); delete it to start over"); }
        if (doc is null || doc.Format != FormatName)
            throw GgufOptimizeException.BadInput($"'{path}' is not a state file of gguf-optimize iterate; choose another output folder");
        return new IterationState(folder, doc);
    }

    public string FullPath(string relative) => Path.Combine(_folder, relative);

    /// <summary>
    /// The step's outputs when it finished earlier with the same inputs and its files are unchanged; null otherwise.
    /// </summary>
    public StepRecord? Finished(string step, string inputs)
    {
        if (!_doc.Steps.TryGetValue(step, out var record) || !record.Done || record.Inputs != inputs) return null;
        foreach (var a in record.Outputs)
        {
            var info = new FileInfo(FullPath(a.Path));
            if (!info.Exists || info.Length != a.Bytes || info.LastWriteTimeUtc.Ticks != a.WriteTicks) return null;
        }
        return record;
    }

    /// <summary>
    /// Marks a step as started. When it was already started with the same inputs, its partial files are left for
    /// the step to resume (true is returned); otherwise <paramref name="discard"/> is called to remove files made
    /// from other inputs, and false is returned.
    /// </summary>
    public bool Begin(string step, string inputs, Action discard)
    {
        if (_doc.Steps.TryGetValue(step, out var record) && record.Inputs == inputs && !record.Done) return true;
        discard();
        _doc.Steps[step] = new StepRecord { Inputs = inputs };
        Save();
        return false;
    }

    /// <summary>Records a finished step with its outputs (relative paths) and optional numbers.</summary>
    /// <param name="hash">False for outputs too large to hash (baseline logits); they are checked by size and time only.</param>
    public StepRecord Complete(string step, string inputs, IEnumerable<string> outputs, IReadOnlyDictionary<string, double>? values = null, bool hash = true)
    {
        var record = new StepRecord { Inputs = inputs, Done = true };
        foreach (var relative in outputs)
        {
            var info = new FileInfo(FullPath(relative));
            if (!info.Exists) throw GgufOptimizeException.Runtime($"step '{step}' finished without its output '{info.FullName}'");
            record.Outputs.Add(new ArtifactRecord { Path = relative, Bytes = info.Length, WriteTicks = info.LastWriteTimeUtc.Ticks, Sha256 = hash ? ModelIdentity.Of(info.FullName).Sha256 : "" });
        }
        if (values is not null) record.Values = new SortedDictionary<string, double>(values.ToDictionary(), StringComparer.Ordinal);
        _doc.Steps[step] = record;
        Save();
        return record;
    }

    private void Save() => AtomicFile.WriteAllText(Path.Combine(_folder, FileName), JsonSerializer.Serialize(_doc, Json));
}
