using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace GovernancePortal.Audit;

/// <summary>
/// The canonical encoding and hash of an audit event, exactly as docs/audit-log.md describes it:
/// each field in a fixed order as <c>&lt;UTF-8 byte length&gt;:&lt;value&gt;</c>, a null as <c>-</c>,
/// the fields joined by a line feed, then SHA-256 as lowercase hex.
/// </summary>
public static class AuditChain
{
    public static readonly string GenesisHash = new('0', 64);

    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    /// <summary>The number of fields the encoding joins.</summary>
    public const int FieldCount = 11;

    public static string CanonicalEncoding(AuditEvent e) =>
        string.Join('\n', Fields(e).Select(field => field is null ? "-" : $"{Encoding.UTF8.GetByteCount(field)}:{field}"));

    public static string ComputeHash(AuditEvent e) => HashOfFields(Fields(e));

    /// <summary>The eleven fields as the encoding writes them, in its order; null where the event has none.</summary>
    public static string?[] Fields(AuditEvent e) =>
    [
        e.Seq.ToString(CultureInfo.InvariantCulture),
        FormatTime(e.OccurredAt),
        e.Actor,
        e.ActorRoles,
        e.Action,
        e.SubjectId?.ToString(CultureInfo.InvariantCulture),
        e.Program,
        e.Purpose,
        e.Detail,
        e.RecordCount?.ToString(CultureInfo.InvariantCulture),
        e.PrevHash,
    ];

    /// <summary>
    /// A time as the encoding writes it: UTC, seven fraction digits, the last always 0. A time finer than a
    /// microsecond is never stored (<c>StoredTime.Normalize</c>), so hashing one is a bug, not a choice.
    /// </summary>
    public static string FormatTime(DateTimeOffset time)
    {
        if (time.UtcTicks % 10 != 0)
            throw new ArgumentException($"An audit time is stored to the microsecond; {time:O} is finer.", nameof(time));
        return time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// SHA-256, lowercase hex, of the canonical encoding of <paramref name="fields"/> (already in their
    /// written form, null for a null field): what an offline verifier recomputes from an export's text.
    /// </summary>
    public static string HashOfFields(ReadOnlySpan<string?> fields)
    {
        Span<byte> hash = stackalloc byte[32];
        HashOfFields(fields, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The same hash into <paramref name="hash"/> (32 bytes), allocating nothing for a usual event.</summary>
    public static void HashOfFields(ReadOnlySpan<string?> fields, Span<byte> hash)
    {
        var max = fields.Length;
        foreach (var field in fields)
            max += field is null ? 1 : 21 + Encoding.UTF8.GetMaxByteCount(field.Length);
        byte[]? rented = null;
        var buffer = max <= 2048 ? stackalloc byte[2048] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = 0;
            for (var i = 0; i < fields.Length; i++)
            {
                if (i > 0)
                    buffer[n++] = (byte)'\n';
                if (fields[i] is not { } field)
                {
                    buffer[n++] = (byte)'-';
                    continue;
                }
                // The value is encoded 21 bytes further on (room for any length and the colon), then moved back behind its length.
                var length = Encoding.UTF8.GetBytes(field, buffer[(n + 21)..]);
                length.TryFormat(buffer[n..], out var written, provider: CultureInfo.InvariantCulture);
                n += written;
                buffer[n++] = (byte)':';
                buffer.Slice(n + 21 - written - 1, length).CopyTo(buffer[n..]);
                n += length;
            }
            SHA256.HashData(buffer[..n], hash);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Roles as stored and hashed: distinct, sorted ordinally, comma separated.</summary>
    public static string JoinRoles(IEnumerable<string> roles) =>
        string.Join(',', roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
}
