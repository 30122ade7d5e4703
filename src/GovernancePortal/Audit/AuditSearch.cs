using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Data;

namespace GovernancePortal.Audit;

/// <summary>What narrows an auditor's search; a null or blank value does not filter.</summary>
public sealed record AuditQuery(string? Actor = null, string? Action = null, string? Program = null)
{
    public const int MaxFilterLength = 200;

    public static readonly AuditQuery None = new();
}

/// <summary>A page of matching events, newest first, and how many match in all.</summary>
public sealed record AuditSearchPage(IReadOnlyList<AuditEvent> Events, long Total, int Offset)
{
    public const int MaxLimit = 500;
}

/// <summary>
/// Read-only questions auditors ask of the log. The log holds personal data (who acted on whom), so a
/// search is itself audited: its event (the filters, how many rows) commits before any row is returned.
/// </summary>
public sealed class AuditSearch(ConnectionFactory connections, AuditLog audit)
{
    private const string Events = """
        SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
               subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
               record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
        FROM audit_events
        """;

    private const string Count = "SELECT count(*) FROM audit_events";

    // One fixed condition per filter; values always travel as parameters.
    private const string ActorContains = @"lower(actor) LIKE @ActorPattern ESCAPE '\'";
    private const string ActionIs = "action = @Action";
    private const string ProgramIs = "program = @Program";

    private const string NewestFirst = """

         ORDER BY seq DESC
         LIMIT @Limit OFFSET @Offset
        """;

    public async Task<AuditSearchPage> SearchAsync(AuditQuery query, int offset, int limit, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.Auditor, "Only auditors search the audit log.");
        offset = Math.Max(0, offset);
        limit = Math.Clamp(limit, 1, AuditSearchPage.MaxLimit);
        if (new[] { query.Actor, query.Action, query.Program }.Any(value => value?.Trim().Length > AuditQuery.MaxFilterLength))
            throw new RuleViolation($"Keep each filter under {AuditQuery.MaxFilterLength} characters.");
        var conditions = new List<string>();
        if (!string.IsNullOrWhiteSpace(query.Actor))
            conditions.Add(ActorContains);
        if (!string.IsNullOrWhiteSpace(query.Action))
            conditions.Add(ActionIs);
        if (!string.IsNullOrWhiteSpace(query.Program))
            conditions.Add(ProgramIs);
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        var parameters = new
        {
            ActorPattern = SqlDialect.ContainsPattern(query.Actor),
            Action = query.Action?.Trim(),
            Program = query.Program?.Trim(),
            Offset = offset,
            Limit = limit,
        };

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var total = await scope.ExecuteScalarAsync<long>(Count + where, parameters);
        var events = (await scope.QueryAsync<AuditEvent>(Events + where + NewestFirst, parameters)).ToList();
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.AuditSearched,
            Detail: Describe(query, offset, events.Count, total), RecordCount: events.Count));
        await scope.CommitAsync();
        return new AuditSearchPage(events, total, offset);
    }

    private static string Describe(AuditQuery query, int offset, int count, long total)
    {
        var filters = new List<string>();
        if (!string.IsNullOrWhiteSpace(query.Actor))
            filters.Add($"actor contains \"{query.Actor.Trim()}\"");
        if (!string.IsNullOrWhiteSpace(query.Action))
            filters.Add($"action {query.Action.Trim()}");
        if (!string.IsNullOrWhiteSpace(query.Program))
            filters.Add($"program {query.Program.Trim()}");
        var shown = count == 0 ? $"no rows of {total}" : $"rows {offset + 1}-{offset + count} of {total}";
        return filters.Count == 0 ? $"{shown}; no filter" : $"{shown}; {string.Join(", ", filters)}";
    }

}
