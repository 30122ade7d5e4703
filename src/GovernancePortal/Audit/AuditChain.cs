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

    public static string CanonicalEncoding(AuditEvent e)
    {
        string?[] fields =
        [
            e.Seq.ToString(CultureInfo.InvariantCulture),
            e.OccurredAt.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture),
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
        return string.Join('\n', fields.Select(field => field is null ? "-" : $"{Encoding.UTF8.GetByteCount(field)}:{field}"));
    }

    public static string ComputeHash(AuditEvent e) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalEncoding(e))));

    /// <summary>Roles as stored and hashed: distinct, sorted ordinally, comma separated.</summary>
    public static string JoinRoles(IEnumerable<string> roles) =>
        string.Join(',', roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
}
