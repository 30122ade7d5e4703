using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GovernancePortal.Audit;

/// <summary>
/// The checkpoint that covers an export: a signed tree head (its note, as published) whose tree contains the
/// export's last event, that event's inclusion proof in it, and, for an export that starts after seq 1, the
/// inclusion proof of the event before its first (whose hash is the export's <c>prevHash</c>).
/// </summary>
public sealed record ManifestCheckpoint(long TreeSize, string RootHash, string Note, IReadOnlyList<string> InclusionProof, IReadOnlyList<string>? PrevInclusionProof = null);

/// <summary>
/// The signed description of one export (docs/audit-log.md, "The manifest"): its range and figures, the tree
/// head of size <see cref="To"/>, the covering checkpoint when there is one, and an ECDSA P-256 signature by the
/// portal's key over <see cref="SignedText"/>.
/// </summary>
public sealed record AuditExportManifest
{
    public const string Version = "gp-audit-export-manifest/v1";

    public required string Format { get; init; }
    public required long From { get; init; }
    public required long To { get; init; }
    public required long Count { get; init; }
    public required string PrevHash { get; init; }
    public required string FirstHash { get; init; }
    public required string LastHash { get; init; }
    public required long ExportBytes { get; init; }
    public required string ExportSha256 { get; init; }
    public required long TreeSize { get; init; }
    public required string TreeRoot { get; init; }
    public ManifestCheckpoint? Checkpoint { get; init; }
    public required string GeneratedAt { get; init; }
    public string KeyId { get; init; } = "";
    public string Algorithm { get; init; } = "ecdsa-p256-sha256";
    public string Signature { get; init; } = "";

    /// <summary>The exact text that is signed: one <c>name value</c> line each, every line ending in a line feed.</summary>
    public string SignedText()
    {
        var text = new StringBuilder();
        void Line(string name, string value) => text.Append(name).Append(' ').Append(value).Append('\n');
        text.Append(Version).Append('\n');
        Line("format", Format);
        Line("from", Number(From));
        Line("to", Number(To));
        Line("count", Number(Count));
        Line("prev-hash", PrevHash);
        Line("first-hash", FirstHash);
        Line("last-hash", LastHash);
        Line("export-bytes", Number(ExportBytes));
        Line("export-sha256", ExportSha256);
        Line("tree-size", Number(TreeSize));
        Line("tree-root", TreeRoot);
        Line("checkpoint-size", Checkpoint is null ? "-" : Number(Checkpoint.TreeSize));
        Line("checkpoint-root", Checkpoint?.RootHash ?? "-");
        Line("generated-at", GeneratedAt);
        return text.ToString();
    }

    public byte[] SignedBytes() => Encoding.UTF8.GetBytes(SignedText());

    public string ToJson()
    {
        var json = new JsonObject
        {
            ["version"] = Version,
            ["format"] = Format,
            ["from"] = From,
            ["to"] = To,
            ["count"] = Count,
            ["prevHash"] = PrevHash,
            ["firstHash"] = FirstHash,
            ["lastHash"] = LastHash,
            ["exportBytes"] = ExportBytes,
            ["exportSha256"] = ExportSha256,
            ["treeSize"] = TreeSize,
            ["treeRoot"] = TreeRoot,
            ["checkpoint"] = Checkpoint is null ? null : new JsonObject
            {
                ["treeSize"] = Checkpoint.TreeSize,
                ["rootHash"] = Checkpoint.RootHash,
                ["note"] = Checkpoint.Note,
                ["inclusionProof"] = Array(Checkpoint.InclusionProof),
                ["prevInclusionProof"] = Checkpoint.PrevInclusionProof is { } prev ? Array(prev) : null,
            },
            ["generatedAt"] = GeneratedAt,
            ["keyId"] = KeyId,
            ["algorithm"] = Algorithm,
            ["signature"] = Signature,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    /// <summary>Reads a manifest; a missing field, a wrong type or another version is a <see cref="FormatException"/> naming it.</summary>
    public static AuditExportManifest Parse(string text)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(text) as JsonObject ?? throw new FormatException("the manifest is not a JSON object");
        }
        catch (JsonException exception)
        {
            throw new FormatException($"the manifest is not JSON: {exception.Message}");
        }
        if (String(json, "version") != Version)
            throw new FormatException($"the manifest's version is not {Version}");
        ManifestCheckpoint? checkpoint = null;
        if (json["checkpoint"] is JsonObject c)
        {
            checkpoint = new ManifestCheckpoint(Long(c, "treeSize"), String(c, "rootHash"), String(c, "note"),
                Hashes(c, "inclusionProof") ?? throw new FormatException("the manifest's checkpoint has no inclusionProof array"), Hashes(c, "prevInclusionProof"));
        }
        else if (json["checkpoint"] is not null)
            throw new FormatException("the manifest's checkpoint is neither null nor an object");
        return new AuditExportManifest
        {
            Format = String(json, "format"),
            From = Long(json, "from"),
            To = Long(json, "to"),
            Count = Long(json, "count"),
            PrevHash = String(json, "prevHash"),
            FirstHash = String(json, "firstHash"),
            LastHash = String(json, "lastHash"),
            ExportBytes = Long(json, "exportBytes"),
            ExportSha256 = String(json, "exportSha256"),
            TreeSize = Long(json, "treeSize"),
            TreeRoot = String(json, "treeRoot"),
            Checkpoint = checkpoint,
            GeneratedAt = String(json, "generatedAt"),
            KeyId = String(json, "keyId"),
            Algorithm = String(json, "algorithm"),
            Signature = String(json, "signature"),
        };
    }

    private static JsonArray Array(IReadOnlyList<string> hashes) => new(hashes.Select(hash => (JsonNode)JsonValue.Create(hash)).ToArray());

    private static List<string>? Hashes(JsonObject json, string name) => json[name] switch
    {
        null => null,
        JsonArray array => array.Select(node => node is JsonValue value && value.TryGetValue<string>(out var hash) ? hash
            : throw new FormatException($"the checkpoint's {name} holds something other than strings")).ToList(),
        _ => throw new FormatException($"the checkpoint's {name} is not an array"),
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string String(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : throw new FormatException($"the manifest's {name} is missing or not a string");

    private static long Long(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : throw new FormatException($"the manifest's {name} is missing or not a whole number");
}
