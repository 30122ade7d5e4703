using System.Text.Json;
using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;

namespace GovernancePortal.Collection;

/// <summary>The answer to an accepted request (DESIGN §5.3): what was stored and what was refused.</summary>
public sealed record CollectResult(int Accepted, IReadOnlyList<Rejection> Rejected);

/// <summary>What a collector is told about its program, so an agent can stop collecting at the source.</summary>
public sealed record CollectStatus(string Program, string State, IReadOnlyList<string> PausedCategories);

/// <summary>
/// Stores a collector's records. A record is accepted only inside the transaction that also reads the
/// program's state, its categories' pauses and the subjects' revocations: a pause or revocation that
/// has committed is never followed by an accepted record in its scope, on any node.
/// </summary>
public sealed class CollectionService(
    ConnectionFactory connections, SubjectDirectory subjects, RecordStore records, CollectorRegistry collectors, TimeProvider time)
{
    /// <summary>How far in the future a captured time may be (clock skew of collectors' machines).</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private const string StoredAnswer = """
        SELECT response FROM collect_requests
        WHERE collector_id = @CollectorId AND idempotency_key = @Key AND created_at > @Since
        """;

    private const string RememberAnswer = """
        INSERT INTO collect_requests (collector_id, idempotency_key, created_at, response)
        VALUES (@CollectorId, @Key, @Now, @Response)
        ON CONFLICT (collector_id, idempotency_key) DO UPDATE SET created_at = excluded.created_at, response = excluded.response
        WHERE collect_requests.created_at <= @Since
        """;

    private const string CategoriesOf = """
        SELECT id AS Id, key AS Key, paused AS Paused, retired_at AS RetiredAt
        FROM categories WHERE program_id = @ProgramId
        """;

    private const string RevocationColumns = """
        SELECT subject_id AS SubjectId, category_id AS CategoryId, created_at AS CreatedAt, withdrawn_at AS WithdrawnAt
        FROM revocations
        """;

    /// <summary>The answer already given to this idempotency key within 24 hours, if any.</summary>
    public async Task<CollectResult?> PreviousAnswerAsync(CollectorIdentity collector, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var json = await connection.QuerySingleOrDefaultAsync<string>(StoredAnswer, new
        {
            collector.CollectorId,
            Key = idempotencyKey,
            Since = time.GetUtcNow() - IdempotencyWindow,
        });
        return json is null ? null : JsonSerializer.Deserialize<CollectResult>(json);
    }

    /// <summary>
    /// Stores the batch's acceptable records and returns the answer. Throws <see cref="CollectProblem"/>
    /// with 423 when the whole program is paused or retired; then nothing is stored.
    /// </summary>
    public async Task<CollectResult> IngestAsync(CollectorIdentity collector, CollectBatch batch, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        var (result, stored) = await StoreAsync(collector, batch, idempotencyKey, cancellationToken);
        if (stored > 0)
            await collectors.RecordUseAsync(collector.CollectorId, stored, cancellationToken);
        return result;
    }

    /// <summary>The write transaction; its connection is closed before anything else writes (SQLite has one writer).</summary>
    private async Task<(CollectResult Result, int Stored)> StoreAsync(CollectorIdentity collector, CollectBatch batch, string? idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await ConnectionFactory.BeginWriteAsync(connection, cancellationToken);
        var dialect = connections.Dialect;

        // The state checks must stay inside this transaction, under these locks: that is what makes a
        // pause or a revocation linearizable. Pauses update the program row (FOR SHARE conflicts with
        // them); revocations lock the subject row (FOR SHARE below conflicts with that).
        var program = await connection.QuerySingleAsync<ProgramRow>(
            $"SELECT id AS Id, key AS Key, state AS State, created_at AS CreatedAt FROM programs WHERE id = @Id {dialect.ForShare}",
            new { Id = collector.ProgramId }, transaction);
        if (program.State == ProgramState.Paused)
            throw new CollectProblem(423, "Program paused", $"The program '{program.Key}' is paused; nothing was stored. GET /api/v1/collect/status tells when it resumes.");
        if (program.State == ProgramState.Retired)
            throw new CollectProblem(423, "Program retired", $"The program '{program.Key}' is retired and no longer collects; nothing was stored.");

        var categories = (await connection.QueryAsync<CategoryRow>(CategoriesOf, new { ProgramId = program.Id }, transaction))
            .ToDictionary(c => c.Key, StringComparer.Ordinal);
        var now = StoredTime.Normalize(time.GetUtcNow());
        var rejected = new List<Rejection>(batch.Rejected);
        var candidates = new List<(IncomingRecord Record, CategoryRow Category)>(batch.Records.Count);
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
        if (candidates.Count > 0)
        {
            var subjectIds = await subjects.EnsureByReferencesAsync(connection, transaction, candidates.Select(c => c.Record.Subject));
            var ids = subjectIds.Values.Distinct().ToArray();
            if (dialect.ForShare.Length > 0)
                await connection.ExecuteAsync($"SELECT id FROM subjects WHERE id {dialect.AnyOf("@Ids")} {dialect.ForShare}", new { Ids = dialect.List(ids) }, transaction);
            var revoked = (await connection.QueryAsync<RevocationRow>(
                $"{RevocationColumns} WHERE program_id = @ProgramId AND subject_id {dialect.AnyOf("@SubjectIds")}", new { ProgramId = program.Id, SubjectIds = dialect.List(ids) }, transaction))
                .ToLookup(r => r.SubjectId);
            foreach (var (record, category) in candidates)
            {
                var subjectId = subjectIds[SubjectDirectory.ReferenceKey(record.Subject)];
                if (revoked[subjectId].Any(r => r.Refuses(category.Id, record.CapturedAt)))
                    rejected.Add(new Rejection(record.Index, RejectReason.SubjectRevoked));
                else
                    accepted.Add(new NewRecord(program.Id, category.Id, subjectId, record.CapturedAt, record.PayloadJson, collector.CollectorId));
            }
            if (accepted.Count > 0)
                await records.AddAsync(connection, transaction, accepted, cancellationToken);
        }

        var result = new CollectResult(accepted.Count, rejected.OrderBy(r => r.Index).ToList());
        if (idempotencyKey is not null)
        {
            var remembered = await connection.ExecuteAsync(RememberAnswer, new
            {
                collector.CollectorId,
                Key = idempotencyKey,
                Now = now,
                Since = now - IdempotencyWindow,
                Response = JsonSerializer.Serialize(result),
            }, transaction);
            if (remembered == 0)
            {
                // A concurrent request with the same key committed first: its answer stands, this one stores nothing.
                await transaction.RollbackAsync(cancellationToken);
                return (await PreviousAnswerAsync(collector, idempotencyKey, cancellationToken) ?? result, 0);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return (result, accepted.Count);
    }

    public async Task<CollectStatus> StatusAsync(CollectorIdentity collector, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var program = await connection.QuerySingleAsync<ProgramRow>(
            "SELECT id AS Id, key AS Key, state AS State, created_at AS CreatedAt FROM programs WHERE id = @Id", new { Id = collector.ProgramId });
        var paused = (await connection.QueryAsync<CategoryRow>(CategoriesOf, new { ProgramId = program.Id }))
            .Where(c => c.Paused && c.RetiredAt is null).Select(c => c.Key).Order(StringComparer.Ordinal).ToList();
        return new CollectStatus(program.Key, program.State, paused);
    }

    private sealed record ProgramRow
    {
        public long Id { get; init; }
        public string Key { get; init; } = "";
        public string State { get; init; } = "";
        public DateTimeOffset CreatedAt { get; init; }
    }

    private sealed record CategoryRow
    {
        public long Id { get; init; }
        public string Key { get; init; } = "";
        public bool Paused { get; init; }
        public DateTimeOffset? RetiredAt { get; init; }
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
