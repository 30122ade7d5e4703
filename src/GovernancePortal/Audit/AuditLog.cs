using System.Data.Common;
using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Audit;

/// <summary>Appends hash-chained events. Call inside the unit of work whose action it records.</summary>
public sealed class AuditLog(TimeProvider time, AuditOptions? options = null, CheckpointTrigger? checkpoints = null)
{
    private readonly int _checkpointEvery = (options ?? AuditOptions.Default).CheckpointEvery;

    private const string Head = "SELECT seq AS Seq, hash AS Hash FROM audit_events ORDER BY seq DESC LIMIT 1";

    private const string Insert = """
        INSERT INTO audit_events (seq, occurred_at, actor, actor_roles, action, subject_id, program, purpose, detail, record_count, prev_hash, hash)
        VALUES (@Seq, @OccurredAt, @Actor, @ActorRoles, @Action, @SubjectId, @Program, @Purpose, @Detail, @RecordCount, @PrevHash, @Hash)
        """;

    /// <summary>
    /// The chain lock is held until <paramref name="scope"/> ends, so seq has no gaps and each
    /// event's prevHash is its predecessor's hash even with writers on several nodes.
    /// </summary>
    public async Task<AuditEvent> AppendAsync(WriteScope scope, AuditEntry entry)
    {
        await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.AuditChain);
        var head = await scope.QuerySingleOrDefaultAsync<ChainHead>(Head);
        var stored = new AuditEvent
        {
            Seq = (head?.Seq ?? 0) + 1,
            OccurredAt = StoredTime.Normalize(time.GetUtcNow()),
            Actor = entry.Actor,
            ActorRoles = AuditChain.JoinRoles(entry.ActorRoles),
            Action = entry.Action,
            SubjectId = entry.SubjectId,
            Program = entry.Program,
            Purpose = entry.Purpose,
            Detail = entry.Detail,
            RecordCount = entry.RecordCount,
            PrevHash = head?.Hash ?? AuditChain.GenesisHash,
        };
        stored = stored with { Hash = AuditChain.ComputeHash(stored) };
        await scope.ExecuteAsync(Insert, stored);
        // Only a flag: the checkpoint is signed in the background once this transaction has ended.
        if (stored.Seq % _checkpointEvery == 0)
            checkpoints?.Reached();
        return stored;
    }

    private sealed record ChainHead
    {
        public long Seq { get; init; }
        public string Hash { get; init; } = "";
    }
}
