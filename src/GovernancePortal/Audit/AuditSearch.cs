using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Audit;

/// <summary>Read-only questions auditors ask of the log.</summary>
public sealed class AuditSearch(ConnectionFactory connections)
{
    private const string Latest = """
        SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
               subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
               record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
        FROM audit_events
        ORDER BY seq DESC
        LIMIT @Limit
        """;

    public async Task<(IReadOnlyList<AuditEvent> Events, long Total)> LatestAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var events = (await connection.QueryAsync<AuditEvent>(Latest, new { Limit = limit })).ToList();
        var total = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events");
        return (events, total);
    }
}
