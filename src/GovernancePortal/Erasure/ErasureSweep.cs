using System.Text;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Requests;

namespace GovernancePortal.Erasure;

/// <summary>What one request's erasure came to in a run: finished with its receipt, or waiting for a legal hold.</summary>
public sealed record ErasureOutcome(string Reference, bool Completed, long Deleted, int KeysDestroyed, IReadOnlyList<long> HeldBy);

/// <summary>
/// Carries out erasure requests, upheld objections and the erasure requests that withdrawals file
/// (docs/erasure.md). A request covers the subject's data keys in its scope that were sealed by the time
/// it was received, and so exactly the records collected until then: first those keys are destroyed
/// (crypto-shredding: from that commit nothing they sealed opens, on any node, in any backup once its
/// master key is retired), then their records are deleted in batches of <see cref="ErasureOptions.BatchSize"/>.
/// Keys a legal hold covers are left alone and the request waits; it finishes in the first run after the
/// hold's release. The request then completes with a signed receipt.
/// <para>
/// Every step is its own short transaction that works out what is left from the database alone, under the
/// legal-hold lock, so the sweep is idempotent: safe to run twice, on two nodes at once, or after a crash
/// half-way — a destroyed key stays destroyed, a DELETE counts only the rows it removed, and only one run
/// writes the receipt.
/// </para>
/// </summary>
public sealed class ErasureSweep(ConnectionFactory connections, DataKeyStore keys, SigningKeys signing, AuditLog audit, ErasureOptions options, TimeProvider time)
{
    // Keys destroyed per transaction: each destruction is one row update, so this bounds the lock time like BatchSize does.
    private const int KeysPerStep = 500;

    private const string Pending = $"""
        SELECT r.id AS Id, r.reference AS Reference, r.subject_id AS SubjectId, r.kind AS Kind, r.status AS Status,
               r.program_id AS ProgramId, r.category_id AS CategoryId, p.key AS ProgramKey, c.key AS CategoryKey, r.received_at AS ReceivedAt
        FROM requests r
        LEFT JOIN programs p ON p.id = r.program_id
        LEFT JOIN categories c ON c.id = r.category_id
        WHERE r.receipt IS NULL
          AND ((r.kind = '{RequestKind.Erasure}' AND r.status IN {RequestStatus.OpenList})
               OR (r.kind = '{RequestKind.Objection}' AND r.status = '{RequestStatus.Upheld}'))
        ORDER BY r.received_at, r.id
        """;

    // The keys sealed by the time the request was received: the keys of every record collected until then.
    private const string ScopeKeys = """
        SELECT k.id AS Id, k.program_id AS ProgramId, k.category_id AS CategoryId, k.destroyed_at AS DestroyedAt
        FROM data_keys k
        WHERE k.subject_id = @SubjectId AND (@ProgramId IS NULL OR k.program_id = @ProgramId) AND (@CategoryId IS NULL OR k.category_id = @CategoryId)
          AND k.sealed_at IS NOT NULL AND k.sealed_at <= @ReceivedAt
        ORDER BY k.id
        """;

    private const string ActiveHolds = """
        SELECT id AS Id, program_id AS ProgramId FROM legal_holds
        WHERE released_at IS NULL AND (subject_id IS NULL OR subject_id = @SubjectId)
        ORDER BY id
        """;

    private const string DeleteBatch = """
        DELETE FROM records WHERE id IN (
            SELECT id FROM records
            WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @CategoryId AND data_key_id = @KeyId
            LIMIT @BatchSize)
        """;

    private const string CountErased = """
        INSERT INTO erasure_counts (request_id, category_id, deleted) VALUES (@RequestId, @CategoryId, @Deleted)
        ON CONFLICT (request_id, category_id) DO UPDATE SET deleted = erasure_counts.deleted + excluded.deleted
        """;

    private const string KeptBack = "INSERT INTO erasure_holds (request_id, hold_id, kept_back) VALUES (@RequestId, @HoldId, @KeptBack) ON CONFLICT (request_id, hold_id) DO NOTHING";

    private const string CountRecordsOfKeys = "SELECT count(*) FROM records WHERE subject_id = @SubjectId AND data_key_id {0}";

    private const string MarkInProgress = $"UPDATE requests SET status = '{RequestStatus.InProgress}' WHERE id = @Id AND status = '{RequestStatus.Received}'";

    private const string Counts = """
        SELECT p.key AS Program, c.key AS Category, e.deleted AS Records
        FROM erasure_counts e JOIN categories c ON c.id = e.category_id JOIN programs p ON p.id = c.program_id
        WHERE e.request_id = @RequestId ORDER BY p.key, c.key
        """;

    private const string HeldBack = """
        SELECT h.id AS Hold, h.notice AS Notice, e.kept_back AS Records, h.placed_at AS PlacedAt, h.released_at AS ReleasedAt
        FROM erasure_holds e JOIN legal_holds h ON h.id = e.hold_id
        WHERE e.request_id = @RequestId ORDER BY h.id
        """;

    private const string Complete = $"""
        UPDATE requests
        SET receipt = @Receipt, completed_at = @Now,
            status = CASE WHEN kind = '{RequestKind.Erasure}' THEN '{RequestStatus.Completed}' ELSE status END
        WHERE id = @Id AND receipt IS NULL
        """;

    /// <summary>Works every pending request as far as it can go now; returns what became of each.</summary>
    public async Task<IReadOnlyList<ErasureOutcome>> RunAsync(CancellationToken cancellationToken = default)
    {
        List<PendingRequest> pending;
        await using (var connection = await connections.OpenAsync(cancellationToken))
            pending = (await connection.QueryAsync<PendingRequest>(new CommandDefinition(Pending, cancellationToken: cancellationToken))).AsList();
        var outcomes = new List<ErasureOutcome>();
        foreach (var request in pending)
            outcomes.Add(await EraseAsync(request, cancellationToken));
        return outcomes;
    }

    private async Task<ErasureOutcome> EraseAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        long deleted = 0;
        var destroyed = 0;
        var exhausted = new HashSet<long>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var scope = await connections.BeginWriteAsync(cancellationToken);
            await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.LegalHolds);
            var holds = await scope.QueryAsync<HoldRow>(ActiveHolds, new { request.SubjectId });
            var scopeKeys = await scope.QueryAsync<KeyRow>(ScopeKeys, request);
            var free = scopeKeys.Where(key => !holds.Any(hold => hold.Covers(key))).ToList();

            var toDestroy = free.Where(key => key.DestroyedAt is null).Take(KeysPerStep).Select(key => key.Id).ToList();
            if (toDestroy.Count > 0)
            {
                destroyed += (await keys.DestroyKeysAsync(scope, toDestroy)).Count;
                await scope.CommitAsync();
                await ScrubKeyTableAsync(cancellationToken);
                continue;
            }

            if (await DeleteBatchAsync(scope, request, free.Where(key => !exhausted.Contains(key.Id)), exhausted) is { } removed)
            {
                await scope.CommitAsync();
                deleted += removed;
                continue;
            }

            var held = scopeKeys.Except(free).ToList();
            if (held.Count > 0)
            {
                foreach (var hold in holds.Where(hold => held.Any(hold.Covers)))
                {
                    var ids = held.Where(hold.Covers).Select(key => key.Id).ToList();
                    var keptBack = await scope.ExecuteScalarAsync<long>(string.Format(CountRecordsOfKeys, scope.Dialect.AnyOf("@Ids")),
                        new { request.SubjectId, Ids = scope.Dialect.List(ids) });
                    await scope.ExecuteAsync(KeptBack, new { RequestId = request.Id, HoldId = hold.Id, KeptBack = keptBack });
                }
                await scope.ExecuteAsync(MarkInProgress, new { request.Id });
                await scope.CommitAsync();
                return new ErasureOutcome(request.Reference, false, deleted, destroyed, holds.Where(hold => held.Any(hold.Covers)).Select(hold => hold.Id).ToList());
            }

            await CompleteAsync(scope, request, scopeKeys);
            await scope.CommitAsync();
            return new ErasureOutcome(request.Reference, true, deleted, destroyed, []);
        }
    }

    /// <summary>Deletes one batch of the first key's records that has any left; null when none has (the keys found empty are remembered).</summary>
    private async Task<long?> DeleteBatchAsync(WriteScope scope, PendingRequest request, IEnumerable<KeyRow> candidates, HashSet<long> exhausted)
    {
        foreach (var key in candidates)
        {
            var removed = await scope.ExecuteAsync(DeleteBatch, new
            {
                request.SubjectId, key.ProgramId, key.CategoryId, KeyId = key.Id, options.BatchSize,
            });
            if (removed < options.BatchSize)
                exhausted.Add(key.Id);
            if (removed == 0)
                continue;
            await scope.ExecuteAsync(CountErased, new { RequestId = request.Id, key.CategoryId, Deleted = (long)removed });
            return removed;
        }
        return null;
    }

    private async Task CompleteAsync(WriteScope scope, PendingRequest request, IReadOnlyList<KeyRow> scopeKeys)
    {
        var now = StoredTime.Normalize(time.GetUtcNow());
        var receipt = new ErasureReceipt
        {
            Reference = request.Reference,
            Kind = request.Kind,
            Subject = request.SubjectId,
            Program = request.ProgramKey,
            Category = request.CategoryKey,
            RequestedAt = request.ReceivedAt,
            CompletedAt = now,
            Erased = await scope.QueryAsync<ErasedCategory>(Counts, new { RequestId = request.Id }),
            KeysDestroyed = scopeKeys.Select(key => key.Id).ToList(),
            HeldBack = await scope.QueryAsync<HeldBackRecords>(HeldBack, new { RequestId = request.Id }),
        };
        var body = receipt.Body();
        var signature = await signing.SignAsync(scope, Encoding.UTF8.GetBytes(body));
        var written = await scope.ExecuteAsync(Complete, new { request.Id, Receipt = ErasureReceipt.Text(body, signature), Now = now });
        if (written == 0)
            return;
        await audit.AppendAsync(scope, new AuditEntry(Actor.System.Name, Actor.System.Roles, AuditActions.RecordsErased,
            SubjectId: request.SubjectId, Program: request.ProgramKey, RecordCount: receipt.TotalRecords,
            Detail: $"{request.Reference}: {receipt.TotalRecords} records erased, {receipt.KeysDestroyed.Count} data keys destroyed; signed receipt by key {signature.KeyId}"));
    }

    /// <summary>
    /// Makes the destroyed wrapped bytes leave the database's files, outside any transaction: PostgreSQL
    /// vacuums the key table (the old row versions go once no snapshot still sees them); SQLite already
    /// overwrote them in its pages (<c>secure_delete</c>) and checkpoints its write-ahead log into the file and empties it.
    /// </summary>
    private async Task ScrubKeyTableAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        // The checkpoint holds new writers back while it waits for readers: a long reader (an export) must not stall collection.
        var sql = connections.Dialect.Provider == DatabaseProvider.Postgres ? "VACUUM data_keys" : "PRAGMA busy_timeout = 200; PRAGMA wal_checkpoint(TRUNCATE)";
        await connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancellationToken));
    }

    private sealed record PendingRequest
    {
        public long Id { get; init; }
        public string Reference { get; init; } = "";
        public long SubjectId { get; init; }
        public string Kind { get; init; } = "";
        public string Status { get; init; } = "";
        public long? ProgramId { get; init; }
        public long? CategoryId { get; init; }
        public string? ProgramKey { get; init; }
        public string? CategoryKey { get; init; }
        public DateTimeOffset ReceivedAt { get; init; }
    }

    private sealed record KeyRow
    {
        public long Id { get; init; }
        public long ProgramId { get; init; }
        public long CategoryId { get; init; }
        public DateTimeOffset? DestroyedAt { get; init; }
    }

    private sealed record HoldRow
    {
        public long Id { get; init; }
        public long? ProgramId { get; init; }

        // Holds name a person, a program or both, and a key is one person's in one program: it is held whole or not at all.
        public bool Covers(KeyRow key) => ProgramId is null || ProgramId == key.ProgramId;
    }
}
