using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using GovernancePortal.Crypto;

namespace GovernancePortal.Erasure;

/// <summary>Records erased from one category.</summary>
public sealed record ErasedCategory
{
    public string Program { get; init; } = "";
    public string Category { get; init; } = "";
    public long Records { get; init; }
}

/// <summary>Records of the request's scope a legal hold kept back, counted when the sweep met the hold, and erased after its release.</summary>
public sealed record HeldBackRecords
{
    public long Hold { get; init; }
    public string Notice { get; init; } = "";
    public long Records { get; init; }
    public DateTimeOffset PlacedAt { get; init; }
    public DateTimeOffset? ReleasedAt { get; init; }
}

/// <summary>
/// The signed receipt of an erasure (docs/erasure.md, "The receipt"): three lines of UTF-8 text, the format
/// line <c>gp-erasure-receipt/v1</c>, the receipt as one line of JSON, and
/// <c>signature ecdsa-p256-sha256 &lt;key id&gt; &lt;base64 DER&gt;</c> over the exact bytes of the JSON line.
/// </summary>
public sealed record ErasureReceipt
{
    public const string Format = "gp-erasure-receipt/v1";

    public string Reference { get; init; } = "";
    public string Kind { get; init; } = "";
    public long Subject { get; init; }
    public string? Program { get; init; }
    public string? Category { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset CompletedAt { get; init; }
    public IReadOnlyList<ErasedCategory> Erased { get; init; } = [];
    public IReadOnlyList<long> KeysDestroyed { get; init; } = [];
    public IReadOnlyList<HeldBackRecords> HeldBack { get; init; } = [];

    public long TotalRecords => Erased.Sum(category => category.Records);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new UtcTimeConverter() },
    };

    /// <summary>The JSON line that is signed.</summary>
    public string Body() => JsonSerializer.Serialize(new ReceiptJson(Format, Reference, Kind, Subject, new ScopeJson(Program, Category),
        RequestedAt, CompletedAt, Erased, TotalRecords, KeysDestroyed, HeldBack), Json);

    /// <summary>The file: format line, JSON line, signature line.</summary>
    public static string Text(string body, PortalSignature signature) =>
        $"{Format}\n{body}\nsignature {SigningKeys.Algorithm} {signature.KeyId} {signature.Base64}\n";

    /// <summary>
    /// Checks a receipt file against the public keys in <paramref name="publicKeysPem"/> (one key or several,
    /// as <c>gp keys public</c> writes them), offline. The reason says what is wrong when it does not verify.
    /// </summary>
    public static ReceiptCheck Verify(string text, string publicKeysPem)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        if (lines.Length < 3 || lines[0] != Format)
            return ReceiptCheck.Refused($"not an erasure receipt: the first line must be {Format}");
        var body = lines[1];
        var fields = lines[2].Split(' ');
        if (fields is not ["signature", var algorithm, var keyId, var encoded] || algorithm != SigningKeys.Algorithm)
            return ReceiptCheck.Refused($"the third line must be: signature {SigningKeys.Algorithm} <key id> <base64 signature>");
        if (lines.Skip(3).Any(line => line.Length > 0))
            return ReceiptCheck.Refused("the receipt has text after its signature line");
        byte[] der;
        try
        {
            der = Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            return ReceiptCheck.Refused("the signature is not base64");
        }
        var keys = SigningKeys.ParsePublicKeys(publicKeysPem);
        if (keys.Count == 0)
            return ReceiptCheck.Refused("the public key file holds no ECDSA P-256 public key");
        if (!keys.TryGetValue(keyId, out var pem))
            return ReceiptCheck.Refused($"the receipt is signed by key {keyId}, which is not in the public key file (it has {string.Join(", ", keys.Keys)})");
        if (!SigningKeys.Verify(pem, Encoding.UTF8.GetBytes(body), der))
            return ReceiptCheck.Refused($"the signature does not match the receipt: it was changed after signing, or not signed by key {keyId}");
        ReceiptJson? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<ReceiptJson>(body, Json);
        }
        catch (JsonException exception)
        {
            return ReceiptCheck.Refused($"the receipt's JSON does not read: {exception.Message}");
        }
        if (parsed is null || parsed.Format != Format)
            return ReceiptCheck.Refused("the receipt's JSON does not name its format");
        var receipt = new ErasureReceipt
        {
            Reference = parsed.Reference, Kind = parsed.Kind, Subject = parsed.Subject, Program = parsed.Scope.Program, Category = parsed.Scope.Category,
            RequestedAt = parsed.RequestedAt, CompletedAt = parsed.CompletedAt, Erased = parsed.Erased, KeysDestroyed = parsed.KeysDestroyed, HeldBack = parsed.HeldBack,
        };
        if (receipt.TotalRecords != parsed.TotalRecords)
            return ReceiptCheck.Refused("the receipt's total does not add up");
        return new ReceiptCheck(true, null, receipt, keyId);
    }

    /// <summary>The signed JSON of a stored receipt, or null when the text is not one.</summary>
    public static ErasureReceipt? ReadUnverified(string? text)
    {
        var lines = text?.Split('\n');
        if (lines is not { Length: >= 2 } || lines[0] != Format)
            return null;
        try
        {
            var parsed = JsonSerializer.Deserialize<ReceiptJson>(lines[1], Json);
            return parsed is null ? null : new ErasureReceipt
            {
                Reference = parsed.Reference, Kind = parsed.Kind, Subject = parsed.Subject, Program = parsed.Scope.Program, Category = parsed.Scope.Category,
                RequestedAt = parsed.RequestedAt, CompletedAt = parsed.CompletedAt, Erased = parsed.Erased, KeysDestroyed = parsed.KeysDestroyed, HeldBack = parsed.HeldBack,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The one-line summary <c>gp receipt verify</c> prints.</summary>
    public string Summary(string keyId) =>
        $"ok: {Reference} ({Kind}, {(Program is null ? "every program" : Category is null ? "program " + Program : $"program {Program}, category {Category}")}): " +
        $"{TotalRecords} record(s) erased in {Erased.Count} categor{(Erased.Count == 1 ? "y" : "ies")}, {KeysDestroyed.Count} data key(s) destroyed" +
        (HeldBack.Count == 0 ? "" : $", {HeldBack.Sum(h => h.Records)} record(s) first kept back by {HeldBack.Count} legal hold(s)") +
        $", completed {CompletedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}, signed by key {keyId}";

    private sealed record ScopeJson(string? Program, string? Category);

    private sealed record ReceiptJson(
        string Format, string Reference, string Kind, long Subject, ScopeJson Scope, DateTimeOffset RequestedAt, DateTimeOffset CompletedAt,
        IReadOnlyList<ErasedCategory> Erased, long TotalRecords, IReadOnlyList<long> KeysDestroyed, IReadOnlyList<HeldBackRecords> HeldBack);

    /// <summary>Times as UTC with microseconds, <c>2026-03-02T09:00:00.000000Z</c>: what the database stores, and the same on every machine.</summary>
    private sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.ParseExact(reader.GetString()!, "yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture));
    }
}

/// <summary>The outcome of checking a receipt: valid with what it says, or refused with the reason.</summary>
public sealed record ReceiptCheck(bool Valid, string? Reason, ErasureReceipt? Receipt, string? KeyId)
{
    public static ReceiptCheck Refused(string reason) => new(false, reason, null, null);
}
