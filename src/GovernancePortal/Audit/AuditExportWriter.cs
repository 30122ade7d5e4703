using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace GovernancePortal.Audit;

/// <summary>The two export formats of docs/audit-log.md, "Export formats".</summary>
public enum AuditExportFormat
{
    Csv,
    Jsonl,
}

/// <summary>What an export holds, as its manifest states it: the figures a verifier checks.</summary>
public sealed record AuditExportSummary(long Count, string PrevHash, string FirstHash, string LastHash, long Bytes, string Sha256);

/// <summary>
/// Writes events as CSV or JSON Lines, byte for byte as docs/audit-log.md describes, into a buffer that is
/// handed to the output asynchronously every 64 KiB, while the bytes are counted and hashed. The same events
/// always give the same bytes, which is what lets a manifest carry their SHA-256.
/// </summary>
public sealed class AuditExportWriter(Stream output, AuditExportFormat format)
{
    public static readonly string[] Columns =
        ["seq", "occurredAt", "actor", "actorRoles", "action", "subject", "program", "purpose", "detail", "recordCount", "prevHash", "hash"];

    public const string CsvContentType = "text/csv; charset=utf-8";
    public const string JsonlContentType = "application/jsonl; charset=utf-8";

    private const int FlushThreshold = 64 * 1024;

    private static readonly byte[] CsvHeader = Encoding.UTF8.GetBytes(string.Join(',', Columns) + "\r\n");

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private Utf8JsonWriter? _json;
    private long _bytes;
    private long _count;
    private long _lastSeq;
    private string _prevHash = "";
    private string _firstHash = "";
    private string _lastHash = "";

    public static string ContentType(AuditExportFormat format) => format == AuditExportFormat.Csv ? CsvContentType : JsonlContentType;

    public static string Extension(AuditExportFormat format) => format == AuditExportFormat.Csv ? "csv" : "jsonl";

    public static string Name(AuditExportFormat format) => format == AuditExportFormat.Csv ? "csv" : "jsonl";

    public static bool TryParse(string? text, out AuditExportFormat format)
    {
        format = AuditExportFormat.Csv;
        switch (text?.Trim())
        {
            case null or "" or "csv":
                return true;
            case "jsonl":
                format = AuditExportFormat.Jsonl;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Writes what comes before the first event (the CSV header; nothing for JSON Lines).</summary>
    public void Begin()
    {
        if (format == AuditExportFormat.Csv)
            _buffer.Write(CsvHeader);
    }

    /// <summary>Appends one event; events must come in seq order with no gap.</summary>
    public ValueTask WriteAsync(AuditEvent e, CancellationToken cancellationToken = default)
    {
        if (_count > 0 && e.Seq != _lastSeq + 1)
            throw new InvalidOperationException($"The export skipped from seq {_lastSeq} to {e.Seq}.");
        if (_count == 0)
        {
            _prevHash = e.PrevHash;
            _firstHash = e.Hash;
        }
        _count++;
        _lastSeq = e.Seq;
        _lastHash = e.Hash;
        if (format == AuditExportFormat.Csv)
            WriteCsv(e);
        else
            WriteJson(e);
        return _buffer.WrittenCount >= FlushThreshold ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>Hands on what is buffered and returns the figures of everything written.</summary>
    public async ValueTask<AuditExportSummary> EndAsync(CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken);
        await output.FlushAsync(cancellationToken);
        return new AuditExportSummary(_count, _prevHash, _firstHash, _lastHash, _bytes, Convert.ToHexStringLower(_hash.GetCurrentHash()));
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_buffer.WrittenCount == 0)
            return;
        _hash.AppendData(_buffer.WrittenSpan);
        _bytes += _buffer.WrittenCount;
        await output.WriteAsync(_buffer.WrittenMemory, cancellationToken);
        _buffer.ResetWrittenCount();
    }

    private void WriteCsv(AuditEvent e)
    {
        Number(e.Seq);
        Comma();
        _buffer.Write("\""u8);
        Time(e.OccurredAt);
        _buffer.Write("\""u8);
        Comma();
        Text(e.Actor);
        Comma();
        Text(e.ActorRoles);
        Comma();
        Text(e.Action);
        Comma();
        if (e.SubjectId is { } subject)
            Number(subject);
        Comma();
        Text(e.Program);
        Comma();
        Text(e.Purpose);
        Comma();
        Text(e.Detail);
        Comma();
        if (e.RecordCount is { } count)
            Number(count);
        Comma();
        Text(e.PrevHash);
        Comma();
        Text(e.Hash);
        _buffer.Write("\r\n"u8);
    }

    private void Comma() => _buffer.Write(","u8);

    private void Number(long value)
    {
        var span = _buffer.GetSpan(20);
        value.TryFormat(span, out var written, provider: CultureInfo.InvariantCulture);
        _buffer.Advance(written);
    }

    // The round-trip format of a UTC time is exactly the canonical one (seven fraction digits, Z), and fast.
    private void Time(DateTimeOffset time)
    {
        if (time.UtcTicks % 10 != 0)
            throw new ArgumentException($"An audit time is stored to the microsecond; {time:O} is finer.", nameof(time));
        var span = _buffer.GetSpan(32);
        time.UtcDateTime.TryFormat(span, out var written, "O", CultureInfo.InvariantCulture);
        _buffer.Advance(written);
    }

    // Text is always quoted (so an empty string is "" and a null is nothing at all), a quote doubled.
    private void Text(string? value)
    {
        if (value is null)
            return;
        _buffer.Write("\""u8);
        var quoted = value.Contains('"') ? value.Replace("\"", "\"\"", StringComparison.Ordinal) : value;
        var span = _buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(quoted.Length));
        _buffer.Advance(Encoding.UTF8.GetBytes(quoted, span));
        _buffer.Write("\""u8);
    }

    private void WriteJson(AuditEvent e)
    {
        if (_json is null)
            _json = new Utf8JsonWriter(_buffer, JsonOptions);
        else
            _json.Reset(_buffer);
        var json = _json;
        json.WriteStartObject();
        WriteFields(json, e);
        json.WriteEndObject();
        json.Flush();
        _buffer.Write("\n"u8);
    }

    /// <summary>An event's fields as docs/audit-log.md names them (a JSON Lines row, or an event in the employee's export), occurredAt as hashed.</summary>
    public static void WriteFields(Utf8JsonWriter json, AuditEvent e)
    {
        json.WriteNumber("seq", e.Seq);
        json.WriteString("occurredAt", AuditChain.FormatTime(e.OccurredAt));
        json.WriteString("actor", e.Actor);
        json.WriteString("actorRoles", e.ActorRoles);
        json.WriteString("action", e.Action);
        if (e.SubjectId is { } subject)
            json.WriteNumber("subject", subject);
        else
            json.WriteNull("subject");
        json.WriteString("program", e.Program);
        json.WriteString("purpose", e.Purpose);
        json.WriteString("detail", e.Detail);
        if (e.RecordCount is { } count)
            json.WriteNumber("recordCount", count);
        else
            json.WriteNull("recordCount");
        json.WriteString("prevHash", e.PrevHash);
        json.WriteString("hash", e.Hash);
    }
}
