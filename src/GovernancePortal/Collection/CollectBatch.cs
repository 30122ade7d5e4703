using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace GovernancePortal.Collection;

/// <summary>The per-record reasons of DESIGN §5.3.</summary>
public static class RejectReason
{
    public const string SubjectRevoked = "subject_revoked";
    public const string CategoryPaused = "category_paused";
    public const string UnknownCategory = "unknown_category";
    public const string InvalidRecord = "invalid_record";
    public const string TooLarge = "too_large";
}

public sealed record Rejection(int Index, string Reason);

/// <summary>A record that passed the shape checks; the switches are checked later, inside the write transaction.</summary>
public sealed record IncomingRecord(int Index, string Subject, string Category, DateTimeOffset CapturedAt, string PayloadJson);

/// <summary>A whole request refused before anything is stored: the status and problem text to answer with.</summary>
public sealed class CollectProblem(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
}

/// <summary>A request body read record by record: what can be stored and what was refused, in index order.</summary>
public sealed record CollectBatch(IReadOnlyList<IncomingRecord> Records, IReadOnlyList<Rejection> Rejected)
{
    public const int MaxRecords = 5_000;
    public const long MaxBodyBytes = 8 * 1024 * 1024;
    public const int MaxPayloadBytes = 64 * 1024;
    public const int MaxSubjectLength = 320;
    public const int MaxCategoryLength = 63;

    private static readonly JsonSerializerOptions ReadOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Reads a JSON array, or NDJSON when <paramref name="contentType"/> says so, as a stream: one
    /// element in memory at a time besides the parsed records. Throws <see cref="CollectProblem"/> for
    /// a malformed body (400) or too many records (413).
    /// </summary>
    public static async Task<CollectBatch> ReadAsync(Stream body, string? contentType, CancellationToken cancellationToken)
    {
        var records = new List<IncomingRecord>();
        var rejected = new List<Rejection>();
        var index = 0;
        try
        {
            var elements = IsNdjson(contentType) ? ReadNdjsonAsync(body, cancellationToken) : ReadArrayAsync(body, cancellationToken);
            await foreach (var element in elements)
            {
                if (index == MaxRecords)
                    throw new CollectProblem(413, "Too many records", $"A request carries at most {MaxRecords} records; send the rest in another request.");
                var (record, rejection) = Validate(index, element);
                if (record is not null)
                    records.Add(record);
                else
                    rejected.Add(rejection!);
                index++;
            }
        }
        catch (JsonException exception)
        {
            throw new CollectProblem(400, "Malformed body",
                $"The body is not valid {(IsNdjson(contentType) ? "NDJSON (one JSON object per line)" : "JSON (an array of records)")}: {exception.Message} Nothing was stored.");
        }
        return new CollectBatch(records, rejected);
    }

    public static bool IsNdjson(string? contentType) =>
        contentType is not null && (contentType.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
                                    || contentType.StartsWith("application/ndjson", StringComparison.OrdinalIgnoreCase)
                                    || contentType.StartsWith("application/jsonl", StringComparison.OrdinalIgnoreCase));

    private static async IAsyncEnumerable<JsonElement> ReadArrayAsync(Stream body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var element in JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(body, topLevelValues: false, ReadOptions, cancellationToken))
            yield return element;
    }

    private static async IAsyncEnumerable<JsonElement> ReadNdjsonAsync(Stream body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024, leaveOpen: true);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonElement element;
            try
            {
                using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
                element = document.RootElement.Clone();
            }
            catch (JsonException exception)
            {
                throw new JsonException($"Line {lineNumber}: {exception.Message}", exception);
            }
            yield return element;
        }
    }

    private static (IncomingRecord?, Rejection?) Validate(int index, JsonElement element)
    {
        Rejection Invalid() => new(index, RejectReason.InvalidRecord);

        if (element.ValueKind != JsonValueKind.Object)
            return (null, Invalid());
        if (!element.TryGetProperty("payload", out var payload) || payload.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            return (null, Invalid());
        if (!TryGetString(element, "subject", MaxSubjectLength, out var subject)
            || !TryGetString(element, "category", MaxCategoryLength, out var category)
            || !TryGetString(element, "capturedAt", 64, out var capturedText)
            || !TryParseInstant(capturedText, out var capturedAt))
            return (null, Invalid());
        var raw = JsonMarshal.GetRawUtf8Value(payload);
        if (raw.Length > MaxPayloadBytes)
            return (null, new Rejection(index, RejectReason.TooLarge));
        return (new IncomingRecord(index, subject, category, capturedAt, Encoding.UTF8.GetString(raw)), null);
    }

    private static bool TryGetString(JsonElement element, string name, int maxLength, out string value)
    {
        value = "";
        if (!element.TryGetProperty(name, out var property) || property.ValueKind != JsonValueKind.String)
            return false;
        value = property.GetString()!.Trim();
        return value.Length > 0 && value.Length <= maxLength;
    }

    /// <summary>ISO-8601 with a time zone (Z or an offset): a time without one is ambiguous and refused.</summary>
    private static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        var hasZone = text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 6 && (text[^6] is '+' or '-') && text[^3] == ':');
        return hasZone && text.Contains('T')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out instant);
    }
}
