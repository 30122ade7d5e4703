using System.Collections.Concurrent;
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
        return stored is null ? null : Answer(stored, bodySha256);
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
    /// 422 when the idempotency key was used for another body; then nothing is stored. A key already answered
    /// within 24 hours gets that answer again and stores nothing.
    /// </summary>
    public async Task<CollectResult> IngestAsync(CollectorIdentity collector, CollectBatch batch, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        if (connections.Dialect.Provider == DatabaseProvider.Sqlite)
            return await IngestInGroupAsync(new PendingBatch(collector, batch, idempotencyKey, cancellationToken));

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var outcome = await StoreAsync(scope, collector, batch, idempotencyKey);
        if (outcome.Undo)
        {
            await scope.RollbackAsync();
            return outcome.Result;
        }
        var clock = CollectionTimings.Start();
        if (outcome.Stored > 0)
            await collectors.RecordUseAsync(scope, collector.CollectorId, outcome.Stored);
        clock.Mark(CollectionTimings.Usage);
        await scope.CommitAsync();
        clock.Mark(CollectionTimings.Commit);
        return outcome.Result;
    }

    /// <summary>What one batch did inside a write transaction; <see cref="Undo"/>: its writes must be rolled back (an idempotent replay).</summary>
    private sealed record Outcome(CollectResult Result, int Stored, bool Undo);

    /// <summary>
    /// One batch inside <paramref name="scope"/>, which the caller commits: the idempotency answer, the switch checks
    /// under their locks, the subjects, the sealed records and the answer kept for its key.
    /// </summary>
    private async Task<Outcome> StoreAsync(WriteScope scope, CollectorIdentity collector, CollectBatch batch, string? idempotencyKey)
    {
        var clock = CollectionTimings.Start();
        var dialect = scope.Dialect;
        if (idempotencyKey is not null && await StoredAnswerAsync(scope, collector, idempotencyKey, batch.BodySha256) is { } replay)
        {
            clock.Mark(CollectionTimings.Idempotency);
            return new Outcome(replay, 0, Undo: true);
        }
        clock.Mark(CollectionTimings.Idempotency);

        // The state checks must stay inside this transaction, under these locks: that is what makes a
        // pause or a revocation linearizable. A collector's revocation locks its row FOR UPDATE, which
        // KEY SHARE conflicts with (FOR SHARE would also conflict with the usage counters written to that
        // row at the end of every batch, and queue the collector's batches behind each other). Pauses update
        // the program row (FOR SHARE conflicts with them); a subject's revocations take the person's gate
        // exclusively (the batch's shared gates of its people, below, conflict with that).
        // Each share lock is taken behind its fair gate (SqlDialect.GateAsync), so a switch is never starved by later batches.
        await scope.GateAsync(Gate.Collector, GateMode.Shared, collector.CollectorId);
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
            // The people's gates alone order this batch against their revocations: every change to what may be collected
            // about a person takes the person's gate exclusively before anything else (Revocations.LockSubjectAsync). A share
            // lock on each of the thousand subject rows besides (as before) cost 15 ms of a PostgreSQL batch
            // (docs/PERFORMANCE.md); the revocations are read after the gate, in a snapshot that sees any that committed first.
            await scope.GateAsync(Gate.Subject, GateMode.Shared, ids);
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
            // A concurrent request with the same key committed first (PostgreSQL, READ COMMITTED: this statement
            // waited for it and now sees it): its answer stands, this one's writes are undone.
            if (remembered == 0)
                return new Outcome(await StoredAnswerAsync(scope, collector, idempotencyKey, batch.BodySha256) ?? result, 0, Undo: true);
        }
        return new Outcome(result, accepted.Count, Undo: false);
    }

    /// <summary>The answer kept for the key inside the scope (so also one an earlier batch of the same group committed with it); 422 for another body.</summary>
    private async Task<CollectResult?> StoredAnswerAsync(WriteScope scope, CollectorIdentity collector, string idempotencyKey, byte[]? bodySha256)
    {
        var stored = await scope.QuerySingleOrDefaultAsync<StoredAnswerRow>(StoredAnswer, new
        {
            collector.CollectorId,
            Key = idempotencyKey,
            Since = StoredTime.Normalize(time.GetUtcNow()) - IdempotencyWindow,
        });
        return stored is null ? null : Answer(stored, bodySha256);
    }

    private static CollectResult Answer(StoredAnswerRow stored, byte[]? bodySha256)
    {
        if (stored.BodySha256 is not null && bodySha256 is not null && !stored.BodySha256.AsSpan().SequenceEqual(bodySha256))
            throw new CollectProblem(422, "Idempotency-Key reused",
                "This Idempotency-Key was used within the last 24 hours for a different body; nothing was stored. Send a new batch with a new key.");
        return JsonSerializer.Deserialize<CollectResult>(stored.Response)!;
    }

    /// <summary>At most this many records share one SQLite write transaction.</summary>
    public const int MaxGroupRecords = 8_000;

    private readonly ConcurrentQueue<PendingBatch> _waiting = new();
    private readonly SemaphoreSlim _groupLeader = new(1, 1);

    private sealed class PendingBatch(CollectorIdentity collector, CollectBatch batch, string? idempotencyKey, CancellationToken cancellation)
    {
        public CollectorIdentity Collector { get; } = collector;
        public CollectBatch Batch { get; } = batch;
        public string? IdempotencyKey { get; } = idempotencyKey;
        public CancellationToken Cancellation { get; } = cancellation;
        public TaskCompletionSource<CollectResult> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CollectionTimings.PhaseClock Waiting = CollectionTimings.Start();
    }

    /// <summary>
    /// Group commit on SQLite's single writer: the batches that arrive while a group is being written wait, and
    /// the next of them to lead writes them all in one transaction, each batch inside its own savepoint. Every
    /// batch keeps its own answer and its own switch checks, read inside that transaction under the write lock,
    /// so nothing can change between them: a pause or a revocation commits before the group (and every batch in
    /// it sees it) or after it (and every record in it has an earlier received time). A batch refused (401, 423,
    /// 422), replayed or failed rolls back its savepoint and stores nothing; the others are committed, and every
    /// answer is given only after the commit.
    /// </summary>
    private async Task<CollectResult> IngestInGroupAsync(PendingBatch pending)
    {
        _waiting.Enqueue(pending);
        await _groupLeader.WaitAsync(CancellationToken.None);
        try
        {
            while (!pending.Answer.Task.IsCompleted)
                await WriteGroupAsync();
        }
        finally
        {
            _groupLeader.Release();
        }
        return await pending.Answer.Task;
    }

    private async Task WriteGroupAsync()
    {
        var group = new List<PendingBatch>();
        var answers = new List<(Outcome? Outcome, Exception? Failure)>();
        WriteScope scope;
        try
        {
            // No single request's cancellation may abort the others' transaction; each is checked before its turn.
            scope = await connections.BeginWriteAsync(CancellationToken.None);
        }
        catch (Exception exception)
        {
            // No transaction: every batch waiting for this one gets the failure (a database that is down is down for all).
            for (var failed = 0; failed < MaxGroupRecords && _waiting.TryDequeue(out var waiting); failed += waiting.Batch.Records.Count)
                waiting.Answer.TrySetException(exception);
            return;
        }
        // The group is what waited until the write lock was held: the longer the wait, the larger the group.
        var size = 0;
        while (size < MaxGroupRecords && _waiting.TryDequeue(out var next))
        {
            group.Add(next);
            answers.Add((null, null));
            size += next.Batch.Records.Count;
        }
        try
        {
            await using var _ = scope;
            for (var i = 0; i < group.Count; i++)
            {
                var item = group[i];
                if (item.Cancellation.IsCancellationRequested)
                {
                    answers[i] = (null, new OperationCanceledException(item.Cancellation));
                    continue;
                }
                item.Waiting.Mark(CollectionTimings.Begin);
                await scope.ExecuteAsync("SAVEPOINT batch");
                try
                {
                    var outcome = await StoreAsync(scope, item.Collector, item.Batch, item.IdempotencyKey);
                    item.Waiting.Skip();
                    if (outcome.Undo)
                        await scope.ExecuteAsync("ROLLBACK TO batch");
                    answers[i] = (outcome, null);
                }
                catch (Exception exception) when (exception is CollectProblem || !DatabaseUnavailable.IsUnavailable(exception))
                {
                    await scope.ExecuteAsync("ROLLBACK TO batch");
                    answers[i] = (null, exception);
                }
                await scope.ExecuteAsync("RELEASE batch");
            }
            foreach (var item in group)
                item.Waiting.Mark(CollectionTimings.Group);
            var clock = CollectionTimings.Start();
            foreach (var used in group.Zip(answers).Where(a => a.Second.Outcome is { Undo: false, Stored: > 0 })
                         .GroupBy(a => a.First.Collector.CollectorId, a => a.Second.Outcome!.Stored))
                await collectors.RecordUseAsync(scope, used.Key, used.Sum());
            clock.Mark(CollectionTimings.Usage);
            await scope.CommitAsync();
            clock.Mark(CollectionTimings.Commit);
        }
        catch (Exception exception)
        {
            // Nothing of the group was committed: every batch not already refused gets the failure.
            for (var i = 0; i < group.Count; i++)
                if (answers[i].Failure is null)
                    answers[i] = (null, exception);
        }
        for (var i = 0; i < group.Count; i++)
        {
            if (answers[i].Failure is { } failure)
                group[i].Answer.TrySetException(failure);
            else
                group[i].Answer.TrySetResult(answers[i].Outcome!.Result);
        }
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
