using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Grants;

public static class GrantStatus
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
}

public sealed record GrantSummary
{
    public long Id { get; init; }
    public string ProgramKey { get; init; } = "";
    public string ProgramName { get; init; } = "";
    public string Purpose { get; init; } = "";
    public string? ApprovedBy { get; init; }
    public DateTimeOffset? ApprovedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string CategoryKeys { get; init; } = "";

    public string StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? GrantStatus.Revoked
        : ExpiresAt <= now ? GrantStatus.Expired
        : ApprovedAt is null ? GrantStatus.Pending
        : GrantStatus.Active;
}

/// <summary>Grants held by a person (by email, as the grant names them).</summary>
public sealed class GrantQueries(ConnectionFactory connections)
{
    private const string ForUser = """
        SELECT g.id AS Id, p.key AS ProgramKey, p.name AS ProgramName, g.purpose AS Purpose,
               g.approved_by AS ApprovedBy, g.approved_at AS ApprovedAt, g.expires_at AS ExpiresAt, g.revoked_at AS RevokedAt,
               coalesce((SELECT string_agg(c.key, ', ') FROM grant_categories gc JOIN categories c ON c.id = gc.category_id WHERE gc.grant_id = g.id), '') AS CategoryKeys
        FROM grants g JOIN programs p ON p.id = g.program_id
        WHERE g.principal_kind = 'user' AND g.principal = @Email
        ORDER BY g.expires_at DESC
        """;

    public async Task<IReadOnlyList<GrantSummary>> ForUserAsync(string email, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<GrantSummary>(new CommandDefinition(ForUser, new { Email = Subjects.SubjectDirectory.NormalizeEmail(email) }, cancellationToken: cancellationToken))).ToList();
    }
}
