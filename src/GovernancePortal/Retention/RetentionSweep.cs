using System.Text.Json;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Retention;

/// <summary>What one category's sweep did: records deleted, and records past their retention that a legal hold kept.</summary>
public sealed record CategorySweep(long ProgramId, string ProgramKey, long CategoryId, string CategoryKey, int RetentionDays, long Deleted, long Held, int Batches);

/// <summary>One finished run of <see cref="RetentionSweep"/>.</summary>
public sealed record RetentionRunResult(long RunId, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, IReadOnlyList<CategorySweep> Categories)
{
    public long Deleted => Categories.Sum(c => c.Deleted);

    public long Held => Categories.Sum(c => c.Held);
}

/// <summary>
/// Deletes every record captured at least its category's retention ago, unless a legal hold covers it,
/// so that "your oldest record is deleted on …" is true within one sweep interval. Each batch is its own
/// write transaction of at most <see cref="RetentionOptions.BatchSize"/> records, so collection never
/// waits long for the write lock. The sweep is idempotent: a run that crashed leaves its run row
/// unfinished and the next run deletes what is left; two runs at once delete each record once (a
/// DELETE counts only the rows it removed).
/// </summary>
public sealed class RetentionSweep(ConnectionFactory connections, ProgramQueries programs, AuditLog audit, RetentionOptions options, TimeProvider time)
{
    private const string StartRun = "INSERT INTO retention_runs (started_at) VALUES (@StartedAt) RETURNING id";

    // A hold covers a record when each scope it names (person, program) matches; one naming neither is refused by the schema.
    internal const string HeldBy = """
        EXISTS (SELECT 1 FROM legal_holds h
                WHERE h.released_at IS NULL
                  AND (h.subject_id IS NULL OR h.subject_id = r.subject_id)
                  AND (h.program_id IS NULL OR h.program_id = r.program_id))
        """;

    // Keyset batches: each starts after the last record the previous one deleted, so a batch reads only rows it
    // has not passed yet, never the index entries of rows deleted before it or of held rows it walked past.
    private const string ChooseBatch = $"""
        SELECT r.id FROM records r
        WHERE r.category_id = @CategoryId AND r.captured_at <= @Cutoff
          AND r.captured_at >= @AfterAt AND (r.captured_at > @AfterAt OR r.id > @AfterId)
          AND NOT {HeldBy}
        ORDER BY r.captured_at, r.id
        LIMIT @BatchSize
        """;

    // PostgreSQL joins "id IN (subquery)" against a scan of the whole table; an array of the chosen ids is
    // deleted through the primary key. SQLite looks each id of the IN list up by rowid.
    private const string DeleteBatchPostgres = $"""
        DELETE FROM records WHERE id = ANY(ARRAY({ChooseBatch}))
        RETURNING captured_at AS CapturedAt, id AS Id
        """;

    private const string DeleteBatchSqlite = $"""
        DELETE FROM records WHERE id IN ({ChooseBatch})
        RETURNING captured_at AS CapturedAt, id AS Id
        """;

    private const string CountHeld = $"SELECT count(*) FROM records r WHERE r.category_id = @CategoryId AND r.captured_at <= @Cutoff AND {HeldBy}";

    private const string CountCategory = """
        INSERT INTO retention_run_counts (run_id, category_id, deleted, held) VALUES (@RunId, @CategoryId, @Deleted, @Held)
        """;

    private const string FinishRun = """
        UPDATE retention_runs SET finished_at = @FinishedAt, records_deleted = @Deleted, records_held = @Held WHERE id = @RunId
        """;

    public async Task<RetentionRunResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var startedAt = StoredTime.Normalize(time.GetUtcNow());
        long runId;
        await using (var scope = await connections.BeginWriteAsync(cancellationToken))
        {
            runId = await scope.ExecuteScalarAsync<long>(StartRun, new { StartedAt = startedAt });
            await scope.CommitAsync();
        }

        var swept = new List<CategorySweep>();
        foreach (var program in await programs.ListAsync(cancellationToken))
        {
            foreach (var category in program.Categories)
            {
                // One cutoff per category for the whole run: later batches never chase records that expire meanwhile.
                var cutoff = startedAt.AddDays(-category.RetentionDays);
                var (deleted, batches) = await DeleteExpiredAsync(category.Id, cutoff, cancellationToken);
                var held = await CountHeldAsync(category.Id, cutoff, cancellationToken);
                swept.Add(new CategorySweep(program.Id, program.Key, category.Id, category.Key, category.RetentionDays, deleted, held, batches));
            }
        }

        await using var finish = await connections.BeginWriteAsync(cancellationToken);
        foreach (var category in swept.Where(c => c.Deleted > 0 || c.Held > 0))
            await finish.ExecuteAsync(CountCategory, new { RunId = runId, category.CategoryId, category.Deleted, category.Held });
        var finishedAt = StoredTime.Normalize(time.GetUtcNow());
        var result = new RetentionRunResult(runId, startedAt, finishedAt, swept);
        await finish.ExecuteAsync(FinishRun, new { RunId = runId, FinishedAt = finishedAt, result.Deleted, result.Held });
        await audit.AppendAsync(finish, new AuditEntry(Actor.System.Name, Actor.System.Roles, AuditActions.RecordsPurged,
            Detail: Detail(result), RecordCount: result.Deleted));
        await finish.CommitAsync();
        return result;
    }

    private async Task<(long Deleted, int Batches)> DeleteExpiredAsync(long categoryId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        long deleted = 0;
        var batches = 0;
        var after = new DeletedKey { CapturedAt = DateTimeOffset.MinValue, Id = 0 };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var scope = await connections.BeginWriteAsync(cancellationToken);
            // A hold placed meanwhile commits before this batch or waits for it: never deleted after its commit.
            await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.LegalHolds);
            var removed = await scope.QueryAsync<DeletedKey>(scope.Dialect.Provider == DatabaseProvider.Postgres ? DeleteBatchPostgres : DeleteBatchSqlite, new
            {
                CategoryId = categoryId, Cutoff = cutoff, AfterAt = after.CapturedAt, AfterId = after.Id, options.BatchSize,
            });
            await scope.CommitAsync();
            batches++;
            deleted += removed.Count;
            // Fewer than a full batch means none were left when it ran; another node may still be deleting the rest.
            if (removed.Count < options.BatchSize)
                return (deleted, batches);
            after = removed.MaxBy(key => (key.CapturedAt, key.Id))!;
        }
    }

    private sealed record DeletedKey
    {
        public DateTimeOffset CapturedAt { get; init; }
        public long Id { get; init; }
    }

    private async Task<long> CountHeldAsync(long categoryId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            new Dapper.CommandDefinition(CountHeld, new { CategoryId = categoryId, Cutoff = cutoff }, cancellationToken: cancellationToken));
    }

    /// <summary>Counts by program and category key only: no person is named in the event.</summary>
    private static string Detail(RetentionRunResult result) => JsonSerializer.Serialize(new
    {
        run = result.RunId,
        deleted = result.Deleted,
        held = result.Held,
        categories = result.Categories.Where(c => c.Deleted > 0 || c.Held > 0)
            .Select(c => new { program = c.ProgramKey, category = c.CategoryKey, deleted = c.Deleted, held = c.Held }),
    });
}
