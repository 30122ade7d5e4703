using System.Text.Json;
using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;

namespace GovernancePortal.Collection;

/// <summary>The answer to an accepted request (docs/collection-api.md): what was stored and what was refused.</summary>
public sealed record CollectResult(int Accepted, IReadOnlyList<Rejection> Rejected);

/// <summary>What a collector is told about its program, so an agent can stop collecting at the source.</summary>
public sealed record CollectStatus(string Program, string State, IReadOnlyList<string> PausedCategories);

/// <summary>
/// Stores a collector's records. A record is accepted only inside the transaction that also reads the
/// program's state, its categories' pauses and the subjects' revocations: a pause or revocation that
/// has committed is never followed by an accepted record in its scope, on any node.
/// </summary>
public sealed class CollectionService(
    ConnectionFactory connections, ProgramQueries programs, SubjectDirectory subjects, RecordStore records, CollectorRegistry collectors, TimeProvider time)
{
    /// <summary>How far in the future a captured time may be (clock skew of collectors' machines).</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private const string StoredAnswer = """
        SELECT response AS Response, request_sha256 AS BodySha256 FROM collect_requests
        WHERE collector_id = @CollectorId AND idempotency_key = @Key AND created_at > @Since
        """;

    private const string RememberAnswer = """
        INSERT INTO collect_requests (collector_id, idempotency_key, created_at, response, request_sha256)
        VALUES (@CollectorId, @Key, @Now, @Response, @BodySha256)
        ON CONFLICT (collector_id, idempotency_key) DO UPDATE
            SET created_at = excluded.created_at, response = excluded.response, request_sha256 = excluded.request_sha256
        WHERE collect_requests.created_at <= @Since
        """;

    private const string ExpiredAnswers = "DELETE FROM collect_requests WHERE created_at <= @Since";

    private const string LiveCollector = "SELECT id FROM collectors WHERE id = @Id AND revoked_at IS NULL";

    private const string RevocationColumns = """
        SELECT subject_id AS SubjectId, category_id AS CategoryId, created_at AS CreatedAt, withdrawn_at AS WithdrawnAt
        FROM revocations
        """;

    /// <summary>
    /// The answer already given to this idempotency key within 24 hours, if any. Throws <see cref="CollectProblem"/>
    /// with 422 when the key was first used with a body whose SHA-256 differs from <paramref name="bodySha256"/>.
    /// </summary>
    public async Task<CollectResult?> PreviousAnswerAsync(CollectorIdentity collector, string idempotencyKey, byte[]? bodySha256, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var stored = await connection.QuerySingleOrDefaultAsync<StoredAnswerRow>(new CommandDefinition(StoredAnswer, new
        {
            collector.CollectorId,
            Key = idempotencyKey,
            Since = time.GetUtcNow() - IdempotencyWindow,
        }, cancellationToken: cancellationToken));
        if (stored is null)
            return null;
        if (stored.BodySha256 is not null && bodySha256 is not null && !stored.BodySha256.AsSpan().SequenceEqual(bodySha256))
            throw new CollectProblem(422, "Idempotency-Key reused",
                "This Idempotency-Key was used within the last 24 hours for a different body; nothing was stored. Send a new batch with a new key.");
        return JsonSerializer.Deserialize<CollectResult>(stored.Response);
    }

    /// <summary>Deletes the answers kept for idempotency keys older than 24 hours; returns how many. Safe to run at any time, on any node.</summary>
    public async Task<int> PurgeExpiredAnswersAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var purged = await scope.ExecuteAsync(ExpiredAnswers, new { Since = StoredTime.Normalize(time.GetUtcNow()) - IdempotencyWindow });
        await scope.CommitAsync();
        return purged;
    }

    /// <summary>
    /// Stores the batch's acceptable records and returns the answer. Throws <see cref="CollectProblem"/>
    /// with 423 when the whole program is paused or retired, with 401 when the collector was revoked, and with
    /// 422 when the idempotency key was used for another body; then nothing is stored.
    /// </summary>
    public async Task<CollectResult> IngestAsync(CollectorIdentity collector, CollectBatch batch, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        var (result, stored) = await StoreAsync(collector, batch, idempotencyKey, cancellationToken);
        if (stored > 0)
        {
            var clock = CollectionTimings.Start();
            await collectors.RecordUseAsync(collector.CollectorId, stored, cancellationToken);
            clock.Mark(CollectionTimings.Usage);
        }
        return result;
    }

    /// <summary>The write transaction; its connection is closed before anything else writes (SQLite has one writer).</summary>
    private async Task<(CollectResult Result, int Stored)> StoreAsync(CollectorIdentity collector, CollectBatch batch, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var clock = CollectionTimings.Start();
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var dialect = scope.Dialect;
        clock.Mark(CollectionTimings.Begin);

        // The state checks must stay inside this transaction, under these locks: that is what makes a
        // pause or a revocation linearizable. A collector's revocation locks its row FOR UPDATE, which
        // KEY SHARE conflicts with (FOR SHARE would also conflict with the usage counters written to that
        // row after every batch, and queue the collector's batches behind each other). Pauses update the
        // program row (FOR SHARE conflicts with them); a subject's revocations lock the subject row (FOR
        // SHARE below conflicts with that).
        var live = await scope.QuerySingleOrDefaultAsync<long?>(
            $"{LiveCollector} {(dialect.Provider == DatabaseProvider.Postgres ? "FOR KEY SHARE" : "")}", new { Id = collector.CollectorId });
        if (live is null)
            throw new CollectProblem(401, "Collector revoked", "This collector's token was revoked; nothing was stored.");
        var program = await programs.GetAsync(scope, collector.ProgramId, RowLock.Share)
            ?? throw new InvalidOperationException("A collector's program is never deleted.");
        if (program.State == ProgramState.Paused)
            throw new CollectProblem(423, "Program paused", $"The program '{program.Key}' is paused; nothing was stored. GET /api/v1/collect/status tells when it resumes.");
        if (program.State == ProgramState.Retired)
            throw new CollectProblem(423, "Program retired", $"The program '{program.Key}' is retired and no longer collects; nothing was stored.");

        var categories = program.Categories.ToDictionary(c => c.Key, StringComparer.Ordinal);
        var now = StoredTime.Normalize(time.GetUtcNow());
        var rejected = new List<Rejection>(batch.Rejected);
        var candidates = new List<(IncomingRecord Record, DataCategory Category)>(batch.Records.Count);
        foreach (var record in batch.Records)
        {
            if (!categories.TryGetValue(record.Category, out var category) || category.RetiredAt is not null)
                rejected.Add(new Rejection(record.Index, RejectReason.UnknownCategory));
            else if (record.CapturedAt > now + FutureTolerance || record.CapturedAt < program.CreatedAt)
                rejected.Add(new Rejection(record.Index, RejectReason.InvalidRecord));
            else if (category.Paused)
                rejected.Add(new Rejection(record.Index, RejectReason.CategoryPaused));
            else
                candidates.Add((record, category));
        }

        var accepted = new List<NewRecord>(candidates.Count);
        clock.Mark(CollectionTimings.Switches);
        if (candidates.Count > 0)
        {
            var subjectIds = await subjects.EnsureByReferencesAsync(scope, candidates.Select(c => c.Record.Subject));
            clock.Mark(CollectionTimings.Subjects);
            var ids = subjectIds.Values.Distinct().ToArray();
            if (dialect.ForShare.Length > 0)
                await scope.ExecuteAsync($"SELECT id FROM subjects WHERE id {dialect.AnyOf("@Ids")} {dialect.ForShare}", new { Ids = dialect.List(ids) });
            var revoked = (await scope.QueryAsync<RevocationRow>(
                $"{RevocationColumns} WHERE program_id = @ProgramId AND subject_id {dialect.AnyOf("@SubjectIds")}", new { ProgramId = program.Id, SubjectIds = dialect.List(ids) }))
                .ToLookup(r => r.SubjectId);
            foreach (var (record, category) in candidates)
            {
                var subjectId = subjectIds[SubjectDirectory.ReferenceKey(record.Subject)];
                if (revoked[subjectId].Any(r => r.Refuses(category.Id, record.CapturedAt)))
                    rejected.Add(new Rejection(record.Index, RejectReason.SubjectRevoked));
                else
                    accepted.Add(new NewRecord(program.Id, category.Id, subjectId, record.CapturedAt, record.PayloadJson, collector.CollectorId));
            }
            clock.Mark(CollectionTimings.Switches);
            if (accepted.Count > 0)
                await records.AddAsync(scope, accepted);
            clock = CollectionTimings.Start();
        }

        var result = new CollectResult(accepted.Count, rejected.OrderBy(r => r.Index).ToList());
        if (idempotencyKey is not null)
        {
            var remembered = await scope.ExecuteAsync(RememberAnswer, new
            {
                collector.CollectorId,
                Key = idempotencyKey,
                Now = now,
                Since = now - IdempotencyWindow,
                Response = JsonSerializer.Serialize(result),
                batch.BodySha256,
            });
            clock.Mark(CollectionTimings.Idempotency);
            if (remembered == 0)
            {
                // A concurrent request with the same key committed first: its answer stands, this one stores nothing.
                await scope.RollbackAsync();
                return (await PreviousAnswerAsync(collector, idempotencyKey, batch.BodySha256, cancellationToken) ?? result, 0);
            }
        }
        await scope.CommitAsync();
        clock.Mark(CollectionTimings.Commit);
        return (result, accepted.Count);
    }

    public async Task<CollectStatus> StatusAsync(CollectorIdentity collector, CancellationToken cancellationToken = default)
    {
        var program = await programs.GetAsync(collector.ProgramId, cancellationToken)
            ?? throw new InvalidOperationException("A collector's program is never deleted.");
        var paused = program.Categories
            .Where(c => c.Paused && c.RetiredAt is null).Select(c => c.Key).Order(StringComparer.Ordinal).ToList();
        return new CollectStatus(program.Key, program.State, paused);
    }

    private sealed record StoredAnswerRow
    {
        public string Response { get; init; } = "";
        public byte[]? BodySha256 { get; init; }
    }

    private sealed record RevocationRow
    {
        public long SubjectId { get; init; }
        public long? CategoryId { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset? WithdrawnAt { get; init; }

        /// <summary>
        /// In force, it refuses every record of its scope. Ended (a re-join, a rejected objection), it still refuses
        /// those captured in [created, withdrawn): an agent may send what it buffered meanwhile only after the re-join.
        /// </summary>
        public bool Refuses(long categoryId, DateTimeOffset capturedAt) =>
            (CategoryId is null || CategoryId == categoryId)
            && (WithdrawnAt is null || (capturedAt >= CreatedAt && capturedAt < WithdrawnAt));
    }
}
