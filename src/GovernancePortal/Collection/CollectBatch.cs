using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GovernancePortal.Collection;

/// <summary>The per-record reasons of docs/collection-api.md.</summary>
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

    private static readonly JsonSerializerOptions ReadOptions = new() { MaxDepth = 64, Converters = { new ItemConverter() } };

    /// <summary>The SHA-256 of the whole body the batch was read from; null for a batch built in code.</summary>
    public byte[]? BodySha256 { get; init; }

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
        await using var hashed = new HashingReadStream(body);
        try
        {
            var items = IsNdjson(contentType) ? ReadNdjsonAsync(hashed, cancellationToken) : ReadArrayAsync(hashed, cancellationToken);
            await foreach (var item in items)
            {
                if (index == MaxRecords)
                    throw new CollectProblem(413, "Too many records", $"A request carries at most {MaxRecords} records; send the rest in another request.");
                var (record, rejection) = Validate(index, item);
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
        // The hash must cover the whole body, also any tail a parser did not need to read.
        await hashed.CopyToAsync(Stream.Null, cancellationToken);
        return new CollectBatch(records, rejected) { BodySha256 = hashed.Hash() };
    }

    public static bool IsNdjson(string? contentType) =>
        contentType is not null && (contentType.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
                                    || contentType.StartsWith("application/ndjson", StringComparison.OrdinalIgnoreCase)
                                    || contentType.StartsWith("application/jsonl", StringComparison.OrdinalIgnoreCase));

    private static async IAsyncEnumerable<Item> ReadArrayAsync(Stream body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in JsonSerializer.DeserializeAsyncEnumerable<Item>(body, topLevelValues: false, ReadOptions, cancellationToken))
            yield return item!;
    }

    private static async IAsyncEnumerable<Item> ReadNdjsonAsync(Stream body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024, leaveOpen: true);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            Item item;
            try
            {
                item = JsonSerializer.Deserialize<Item>(line, ReadOptions)!;
            }
            catch (JsonException exception)
            {
                throw new JsonException($"Line {lineNumber}: {exception.Message}", exception);
            }
            yield return item;
        }
    }

    private static (IncomingRecord?, Rejection?) Validate(int index, Item item)
    {
        if (item.Payload is null || !Usable(item.Subject, MaxSubjectLength, out var subject) || !Usable(item.Category, MaxCategoryLength, out var category)
            || !Usable(item.CapturedAt, 64, out var capturedText) || !TryParseInstant(capturedText, out var capturedAt))
            return (null, new Rejection(index, RejectReason.InvalidRecord));
        if (item.Payload.Length > MaxPayloadBytes)
            return (null, new Rejection(index, RejectReason.TooLarge));
        return (new IncomingRecord(index, subject, category, capturedAt, Encoding.UTF8.GetString(item.Payload)), null);
    }

    private static bool Usable(string? value, int maxLength, out string trimmed)
    {
        trimmed = value?.Trim() ?? "";
        return trimmed.Length > 0 && trimmed.Length <= maxLength && !trimmed.Any(char.IsControl);
    }

    /// <summary>One element as read: fields of the wrong type are left null, so the record is refused, not the body.</summary>
    private sealed record Item(string? Subject, string? Category, string? CapturedAt, byte[]? Payload);

    /// <summary>
    /// Reads a record straight from the JSON reader: only the payload is parsed into a (pooled, disposed)
    /// document, to take its raw bytes; everything else is read field by field.
    /// </summary>
    private sealed class ItemConverter : JsonConverter<Item>
    {
        private static readonly Item NotAnObject = new(null, null, null, null);

        /// <summary>A null element is a record too (an invalid one), not a hole in the batch.</summary>
        public override bool HandleNull => true;

        public override Item Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                SkipValue(ref reader);
                return NotAnObject;
            }
            string? subject = null, category = null, capturedAt = null;
            byte[]? payload = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("subject"u8))
                    subject = ReadString(ref reader);
                else if (reader.ValueTextEquals("category"u8))
                    category = ReadString(ref reader);
                else if (reader.ValueTextEquals("capturedAt"u8))
                    capturedAt = ReadString(ref reader);
                else if (reader.ValueTextEquals("payload"u8))
                    payload = ReadPayload(ref reader);
                else
                {
                    reader.Read();
                    SkipValue(ref reader);
                }
            }
            return new Item(subject, category, capturedAt, payload);
        }

        private static string? ReadString(ref Utf8JsonReader reader)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
                return reader.GetString();
            SkipValue(ref reader);
            return null;
        }

        private static byte[]? ReadPayload(ref Utf8JsonReader reader)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
                return null;
            using var document = JsonDocument.ParseValue(ref reader);
            var raw = JsonMarshal.GetRawUtf8Value(document.RootElement);
            // The reader does not validate the bytes inside strings; stored payloads must be exactly what was sent.
            if (!System.Text.Unicode.Utf8.IsValid(raw))
                throw new JsonException("A payload is not valid UTF-8.");
            return raw.ToArray();
        }

        /// <summary>The serializer hands a converter the whole value, but on a partial reader, where only TrySkip works.</summary>
        private static void SkipValue(ref Utf8JsonReader reader)
        {
            if (!reader.TrySkip())
                throw new JsonException("A record ended before it was complete.");
        }

        public override void Write(Utf8JsonWriter writer, Item value, JsonSerializerOptions options) =>
            throw new NotSupportedException("Records are only read.");
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
