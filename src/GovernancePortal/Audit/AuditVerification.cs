using Dapper;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using Microsoft.Extensions.Logging;

namespace GovernancePortal.Audit;

/// <summary>
/// One run of the verification job: what it checked and, when it failed, the first bad event (when one
/// event is to blame, or the first that may be) and why in words.
/// </summary>
public sealed record AuditVerificationRun
{
    public long Id { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; init; }
    public bool Ok { get; init; }
    public long EventsChecked { get; init; }
    public long CheckpointsChecked { get; init; }
    public long? FirstBadSeq { get; init; }
    public string? Problem { get; init; }
}

/// <summary>
/// Verifies the live log as an auditor would (docs/audit-log.md, "Verification job"): every event's hash, its
/// link to the one before and seq continuity, in one streamed pass; every stored checkpoint's signature by the
/// key it names; and each checkpoint's root against the root of that many live events. All checkpoints matching
/// one live tree is what makes each extend the one before it (their consistency proofs would all verify).
/// Each run is recorded, and the latest failed one is the alert on officers' and auditors' home pages.
/// </summary>
public sealed class AuditVerifier(ConnectionFactory connections, CheckpointStore checkpoints, SigningKeys keys, TimeProvider time)
{
    private const string Events = """
        SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
               subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
               record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
        FROM audit_events ORDER BY seq
        """;

    private const string Insert = """
        INSERT INTO audit_verifications (started_at, finished_at, ok, events_checked, checkpoints_checked, first_bad_seq, problem)
        VALUES (@StartedAt, @FinishedAt, @Ok, @EventsChecked, @CheckpointsChecked, @FirstBadSeq, @Problem) RETURNING id
        """;

    private const string Latest = """
        SELECT id AS Id, started_at AS StartedAt, finished_at AS FinishedAt, ok AS Ok, events_checked AS EventsChecked,
               checkpoints_checked AS CheckpointsChecked, first_bad_seq AS FirstBadSeq, problem AS Problem
        FROM audit_verifications ORDER BY finished_at DESC, id DESC LIMIT 1
        """;

    public async Task<AuditVerificationRun> RunAsync(CancellationToken cancellationToken = default)
    {
        var startedAt = StoredTime.Normalize(time.GetUtcNow());
        var stored = await checkpoints.AllAsync(cancellationToken);
        var publicKeys = (await keys.PublicKeysAsync(cancellationToken)).ToDictionary(key => key.KeyId, key => key.Pem, StringComparer.Ordinal);
        var (events, checkedCount, firstBad, problem) = await CheckAsync(stored, publicKeys, cancellationToken);
        var run = new AuditVerificationRun
        {
            StartedAt = startedAt,
            FinishedAt = StoredTime.Normalize(time.GetUtcNow()),
            Ok = problem is null,
            EventsChecked = events,
            CheckpointsChecked = checkedCount,
            FirstBadSeq = firstBad,
            Problem = problem,
        };
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var id = await scope.ExecuteScalarAsync<long>(Insert, run);
        await scope.CommitAsync();
        return run with { Id = id };
    }

    /// <summary>The newest run, or null before the first.</summary>
    public async Task<AuditVerificationRun?> LatestAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<AuditVerificationRun>(new CommandDefinition(Latest, cancellationToken: cancellationToken));
    }

    private async Task<(long Events, long Checkpoints, long? FirstBadSeq, string? Problem)> CheckAsync(
        IReadOnlyList<Checkpoint> stored, IReadOnlyDictionary<string, string> publicKeys, CancellationToken cancellationToken)
    {
        foreach (var checkpoint in stored)
        {
            if (!Checkpoint.Verify(checkpoint, publicKeys))
                return (0, 0, null, $"the checkpoint of size {checkpoint.TreeSize} is not signed by key {checkpoint.KeyId} (its signature or its fields were changed)");
        }

        var frontier = new MerkleFrontier();
        var next = 0;
        long lastMatched = 0;
        while (next < stored.Count && stored[next].TreeSize == 0)
            next++;
        var previousHash = AuditChain.GenesisHash;
        await using var connection = await connections.OpenAsync(cancellationToken);
        await foreach (var e in connection.QueryUnbufferedAsync<AuditEvent>(Events).WithCancellation(cancellationToken))
        {
            var expected = frontier.Size + 1;
            if (e.Seq != expected)
                return (frontier.Size, next, expected, $"event {expected} is missing: the next event in the log is {e.Seq}");
            if (e.PrevHash != previousHash)
                return (frontier.Size, next, e.Seq, $"event {e.Seq} does not link to the event before it (its prevHash is not that event's hash)");
            if (AuditChain.ComputeHash(e) != e.Hash)
                return (frontier.Size, next, e.Seq, $"event {e.Seq} was changed: its fields do not hash to its stored hash");
            frontier.Append(Convert.FromHexString(e.Hash));
            previousHash = e.Hash;
            if (next < stored.Count && stored[next].TreeSize == frontier.Size)
            {
                if (!frontier.Root().AsSpan().SequenceEqual(stored[next].Root))
                    return (frontier.Size, next, lastMatched + 1,
                        $"the log's first {frontier.Size} events do not have the root signed in the checkpoint of size {frontier.Size}: "
                        + $"events from {lastMatched + 1} to {frontier.Size} were changed and the chain re-hashed");
                lastMatched = frontier.Size;
                next++;
            }
        }
        if (next < stored.Count)
            return (frontier.Size, next, frontier.Size + 1,
                $"the log has {frontier.Size} events but a checkpoint of size {stored[next].TreeSize} was signed: events from {frontier.Size + 1} were removed");
        return (frontier.Size, stored.Count, null, null);
    }
}

/// <summary>The daily verification (<see cref="AuditOptions.VerifyCron"/>); a failure is logged as an error and shown to officers and auditors.</summary>
public sealed class AuditVerificationJob(AuditVerifier verifier, ILogger<AuditVerificationJob> logger)
{
    public const string Id = "audit-verify";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var run = await verifier.RunAsync(cancellationToken);
        if (run.Ok)
            logger.LogInformation("Audit log verified: {Events} events and {Checkpoints} checkpoints", run.EventsChecked, run.CheckpointsChecked);
        else
            logger.LogError("Audit log verification FAILED at seq {FirstBadSeq}: {Problem}", run.FirstBadSeq, run.Problem);
    }
}
