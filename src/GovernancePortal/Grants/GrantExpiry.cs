using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;

namespace GovernancePortal.Grants;

/// <summary>
/// Marks grants whose end has passed as ended (<c>grants.expired_at</c>) and writes one <c>grant.expired</c>
/// event for each, in the transaction that marks it. Reads are refused from the end time on whatever this
/// does (<see cref="GrantReader"/> compares the end with the clock); the mark makes the end part of the
/// grant's history and of the audit log. Idempotent: only a grant not yet marked is marked, and the update
/// that marks it decides whether the event is written, so two sweeps at once write it once.
/// </summary>
public sealed class GrantExpiry(ConnectionFactory connections, AuditLog audit, TimeProvider time)
{
    public const int BatchSize = 100;

    private const string Due = """
        SELECT id FROM grants
        WHERE expires_at <= @Now AND expired_at IS NULL AND revoked_at IS NULL AND denied_at IS NULL
        ORDER BY id LIMIT @BatchSize
        """;

    private const string Mark = "UPDATE grants SET expired_at = @Now WHERE id = @Id AND expired_at IS NULL AND revoked_at IS NULL AND denied_at IS NULL";

    private const string GrantById = $"{GrantQueries.Columns} WHERE g.id = @Id";

    /// <summary>Marks every grant past its end; returns the ids marked by this run.</summary>
    public async Task<IReadOnlyList<long>> RunAsync(CancellationToken cancellationToken = default)
    {
        var marked = new List<long>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var scope = await connections.BeginWriteAsync(cancellationToken);
            var now = StoredTime.Normalize(time.GetUtcNow());
            var due = await scope.QueryAsync<long>($"{Due} {scope.Dialect.ForUpdate}", new { Now = now, BatchSize });
            var batch = new List<long>();
            foreach (var id in due)
            {
                // Another sweep may have marked it between the select and here; only the update that marks it audits it.
                if (await scope.ExecuteAsync(Mark, new { Id = id, Now = now }) == 0)
                    continue;
                var grant = await scope.QuerySingleAsync<GrantSummary>(GrantById, new { Id = id });
                await audit.AppendAsync(scope, new AuditEntry(Actor.System.Name, Actor.System.Roles, AuditActions.GrantExpired,
                    Program: grant.ProgramKey, Purpose: grant.Purpose,
                    Detail: $"{new RecordAccessDetail(grant.Categories, id).Write()}: {(grant.ApprovedAt is null ? "never approved before its end" : "reached its end")} {grant.ExpiresAt:yyyy-MM-dd HH:mm} UTC"));
                batch.Add(id);
            }
            await scope.CommitAsync();
            marked.AddRange(batch);
            if (due.Count < BatchSize)
                return marked;
        }
    }
}
