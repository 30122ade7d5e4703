using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Data;

namespace GovernancePortal.Grants;

public static class GrantStatus
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string Denied = "denied";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
}

public static class GrantDecision
{
    public const string Approve = "approve";
    public const string Deny = "deny";
}

public sealed record GrantSummary
{
    public long Id { get; init; }
    public string ProgramKey { get; init; } = "";
    public string ProgramName { get; init; } = "";
    public string Principal { get; init; } = "";
    public long? PrincipalSubjectId { get; init; }
    public string Purpose { get; init; } = "";
    public string? Justification { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public string? ApprovedBy { get; init; }
    public DateTimeOffset? ApprovedAt { get; init; }
    public int ApprovalsNeeded { get; init; } = 1;
    public DateTimeOffset? DeniedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public string? RevokedBy { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? EndReason { get; init; }

    /// <summary>When the expiry sweep marked the grant ended, after its end time (<see cref="GrantExpiry"/>).</summary>
    public DateTimeOffset? ExpiredAt { get; init; }
    public string CategoryKeys { get; init; } = "";

    public IReadOnlyList<string> Categories => CategoryKeys.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public string StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? GrantStatus.Revoked
        : DeniedAt is not null ? GrantStatus.Denied
        : ExpiresAt <= now ? GrantStatus.Expired
        : ApprovedAt is null ? GrantStatus.Pending
        : GrantStatus.Active;
}

/// <summary>One officer's approval or denial, with the note the requester sees.</summary>
public sealed record GrantReview
{
    public long GrantId { get; init; }
    public string Officer { get; init; } = "";
    public long OfficerSubjectId { get; init; }
    public string Decision { get; init; } = "";
    public string Note { get; init; } = "";
    public DateTimeOffset DecidedAt { get; init; }
}

/// <summary>A step in a grant's life, as its page lists them: asked, each review, ended.</summary>
public sealed record GrantStep(DateTimeOffset At, string Who, string What, string? Note);

/// <summary>A grant with its reviews, and its history in order.</summary>
public sealed record GrantDetail(GrantSummary Grant, IReadOnlyList<GrantReview> Reviews)
{
    public IReadOnlyList<GrantStep> History
    {
        get
        {
            var steps = new List<GrantStep>
            {
                new(Grant.RequestedAt, Grant.Principal, $"Asked for {string.Join(", ", Grant.Categories)} until {Grant.ExpiresAt:d MMM yyyy HH:mm} UTC", Grant.Justification),
            };
            steps.AddRange(Reviews.Select(r => new GrantStep(r.DecidedAt, r.Officer, r.Decision == GrantDecision.Approve ? "Approved" : "Denied", r.Note)));
            if (Grant.RevokedAt is { } ended)
                steps.Add(new GrantStep(ended, Grant.RevokedBy ?? "", "Ended early", Grant.EndReason));
            else if (Grant.ApprovedAt is not null && Grant.DeniedAt is null)
                steps.Add(new GrantStep(Grant.ExpiresAt, "", Grant.ExpiredAt is null ? "Ends" : "Ended at its end time", null));
            return steps.OrderBy(s => s.At).ToList();
        }
    }

    public int Approvals => Reviews.Count(r => r.Decision == GrantDecision.Approve);
}

/// <summary>
/// Questions about grants: a person's own, the officers' list, one grant with its history. A grant
/// names its holder by subject id (<c>principal_subject_id</c>); only a grant made out to a user is ever readable.
/// </summary>
public sealed class GrantQueries(ConnectionFactory connections)
{
    internal const string Columns = """
        SELECT g.id AS Id, p.key AS ProgramKey, p.name AS ProgramName, g.principal AS Principal, g.principal_subject_id AS PrincipalSubjectId,
               g.purpose AS Purpose, g.justification AS Justification, g.requested_at AS RequestedAt,
               g.approved_by AS ApprovedBy, g.approved_at AS ApprovedAt, g.approvals_needed AS ApprovalsNeeded, g.denied_at AS DeniedAt,
               g.expires_at AS ExpiresAt, g.revoked_by AS RevokedBy, g.revoked_at AS RevokedAt, g.end_reason AS EndReason, g.expired_at AS ExpiredAt,
               coalesce((SELECT string_agg(c.key, ', ') FROM grant_categories gc JOIN categories c ON c.id = gc.category_id WHERE gc.grant_id = g.id), '') AS CategoryKeys
        FROM grants g JOIN programs p ON p.id = g.program_id
        """;

    private const string ForUser = $"""
        {Columns}
        WHERE g.principal_kind = 'user' AND g.principal = @Email
        ORDER BY g.expires_at DESC
        """;

    // Grants waiting for a decision first (oldest request first), then the rest, newest first.
    private const string ForOfficers = $"""
        {Columns}
        ORDER BY CASE WHEN g.approved_at IS NULL AND g.denied_at IS NULL AND g.revoked_at IS NULL AND g.expires_at > @Now THEN 0 ELSE 1 END,
                 CASE WHEN g.approved_at IS NULL AND g.denied_at IS NULL AND g.revoked_at IS NULL AND g.expires_at > @Now THEN g.requested_at END,
                 g.requested_at DESC, g.id DESC
        LIMIT @Limit
        """;

    private const string ById = $"{Columns} WHERE g.id = @Id";

    private const string Reviews = """
        SELECT grant_id AS GrantId, officer AS Officer, officer_subject_id AS OfficerSubjectId, decision AS Decision, note AS Note, decided_at AS DecidedAt
        FROM grant_reviews WHERE grant_id = @Id ORDER BY decided_at, id
        """;

    public const int OfficerListLimit = 500;

    /// <summary>The grants made out to a person (by email, as the grant names them), latest end first.</summary>
    public async Task<IReadOnlyList<GrantSummary>> ForUserAsync(string email, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<GrantSummary>(new CommandDefinition(ForUser, new { Email = Subjects.SubjectDirectory.NormalizeEmail(email) }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>Every grant, for privacy officers: those waiting for a decision first.</summary>
    public async Task<IReadOnlyList<GrantSummary>> ForOfficersAsync(Actor actor, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers review grants.");
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<GrantSummary>(new CommandDefinition(ForOfficers, new { Now = now, Limit = OfficerListLimit }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>
    /// One grant with its history, for a privacy officer or the person it is made out to; to anyone else
    /// it does not exist (<see cref="NotFoundProblem"/>), whether or not the id is taken.
    /// </summary>
    public async Task<GrantDetail> DetailAsync(long grantId, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var grant = await connection.QuerySingleOrDefaultAsync<GrantSummary>(new CommandDefinition(ById, new { Id = grantId }, cancellationToken: cancellationToken));
        if (grant is null || !(actor.IsIn(Roles.PrivacyOfficer) || (actor.SubjectId is { } self && grant.PrincipalSubjectId == self)))
            throw new NotFoundProblem("There is no such grant.");
        var reviews = (await connection.QueryAsync<GrantReview>(new CommandDefinition(Reviews, new { Id = grantId }, cancellationToken: cancellationToken))).ToList();
        return new GrantDetail(grant, reviews);
    }

    internal static Task<IReadOnlyList<GrantReview>> ReviewsAsync(WriteScope scope, long grantId) =>
        scope.QueryAsync<GrantReview>(Reviews, new { Id = grantId });
}
