using System.Net;

namespace GovernancePortal.Audit;

/// <summary>
/// <c>Audit:Origin</c> (default <c>governance-portal/&lt;host name&gt;</c>): the log's name, the first line of
/// every checkpoint; set it to one value on every node. <c>Audit:CheckpointEvery</c> (default 1000): a
/// checkpoint is signed whenever the log reaches a multiple of it. <c>Audit:CheckpointCron</c> (default hourly,
/// <c>0 * * * *</c>): when the checkpoint job signs the head and catches up. <c>Audit:VerifyCron</c> (default
/// daily at 03:30 UTC, <c>30 3 * * *</c>): when the verification job checks the chain and the checkpoints.
/// </summary>
public sealed record AuditOptions(string Origin, int CheckpointEvery, string CheckpointCron, string VerifyCron)
{
    public static readonly AuditOptions Default = new(DefaultOrigin(), 1000, "0 * * * *", "30 3 * * *");

    public static string DefaultOrigin() => "governance-portal/" + HostName();

    /// <summary>An origin is one word of printable ASCII without <c>+</c> (a signed-note key name), at most 200 characters.</summary>
    public static bool IsValidOrigin(string origin) =>
        origin.Length is > 0 and <= 200 && origin.All(c => c is > ' ' and <= '~' && c != '+');

    private static string HostName()
    {
        var name = new string(Dns.GetHostName().ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').ToArray());
        return name.Length > 0 ? name : "localhost";
    }
}
