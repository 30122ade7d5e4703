using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Jobs;

namespace GovernancePortal.Programs;

/// <summary>
/// The latest check of one pause: how many records in its scope were received after it committed (while
/// it held, up to the check), and whether it has been open longer than <c>Pauses:ReviewAfterDays</c>.
/// </summary>
public sealed record PauseCheckResult
{
    public long PauseId { get; init; }
    public string ProgramKey { get; init; } = "";
    public string ProgramName { get; init; } = "";
    public string CategoryKeys { get; init; } = "";
    public string PausedBy { get; init; } = "";
    public DateTimeOffset PausedAt { get; init; }
    public DateTimeOffset? ResumedAt { get; init; }
    public DateTimeOffset CheckedAt { get; init; }
    public long LateRecords { get; init; }
    public bool ReviewDue { get; init; }

    public IReadOnlyList<string> Categories => CategoryKeys.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public bool IsActive => ResumedAt is null;

    /// <summary>A record got in after the pause committed: the switch did not hold.</summary>
    public bool IsAlert => LateRecords > 0;
}

/// <summary>
/// Checks that pauses held: for each pause, counts the records in its scope (the whole program, or its
/// categories) received after it was taken and before it was resumed (or before the check), and stores
/// the count. Collection takes its time after a lock the pause conflicts with, so every record accepted
/// before a pause has an earlier received time: any count but zero means a record got past the switch.
/// Active pauses are checked every run; a resumed one once more after its resume, then its result stays.
/// The check only reads records and appends check rows, so two runs at once, or a run after a crash,
/// store the same counts again.
/// </summary>
public sealed class PauseCheck(ConnectionFactory connections, PauseOptions options, TimeProvider time)
{
    private const string ToCheck = """
        SELECT p.id AS PauseId, p.program_id AS ProgramId, p.paused_at AS PausedAt, p.resumed_at AS ResumedAt
        FROM pauses p
        WHERE p.resumed_at IS NULL
           OR NOT EXISTS (SELECT 1 FROM pause_checks k WHERE k.pause_id = p.id AND k.checked_at >= p.resumed_at)
        ORDER BY p.id
        """;

    // Through ix_records_category_captured by category: a pause with no categories listed covers all the program's.
    private const string CountLate = """
        SELECT count(*) FROM records r
        WHERE r.category_id IN (
                SELECT c.id FROM categories c
                WHERE c.program_id = @ProgramId
                  AND (NOT EXISTS (SELECT 1 FROM pause_categories pc WHERE pc.pause_id = @PauseId)
                       OR c.id IN (SELECT pc.category_id FROM pause_categories pc WHERE pc.pause_id = @PauseId)))
          AND r.received_at > @PausedAt AND r.received_at <= @Until
        """;

    private const string Insert = """
        INSERT INTO pause_checks (pause_id, checked_at, late_records, review_due) VALUES (@PauseId, @CheckedAt, @LateRecords, @ReviewDue)
        """;

    private const string Latest = """
        SELECT k.pause_id AS PauseId, g.key AS ProgramKey, g.name AS ProgramName, p.paused_by AS PausedBy, p.paused_at AS PausedAt, p.resumed_at AS ResumedAt,
               k.checked_at AS CheckedAt, k.late_records AS LateRecords, k.review_due AS ReviewDue,
               coalesce((SELECT string_agg(c.key, ', ') FROM pause_categories pc JOIN categories c ON c.id = pc.category_id WHERE pc.pause_id = p.id), '') AS CategoryKeys
        FROM pause_checks k
        JOIN pauses p ON p.id = k.pause_id
        JOIN programs g ON g.id = p.program_id
        WHERE k.id = (SELECT max(x.id) FROM pause_checks x WHERE x.pause_id = k.pause_id)
        ORDER BY CASE WHEN k.late_records > 0 THEN 0 ELSE 1 END, CASE WHEN p.resumed_at IS NULL THEN 0 ELSE 1 END, p.paused_at DESC, p.id DESC
        LIMIT @Limit
        """;

    /// <summary>Checks every pause that needs it and stores one result for each; returns them.</summary>
    public async Task<IReadOnlyList<PauseCheckResult>> RunAsync(CancellationToken cancellationToken = default)
    {
        var checkedAt = StoredTime.Normalize(time.GetUtcNow());
        var counted = new List<(long PauseId, long Late, bool ReviewDue)>();
        await using (var connection = await connections.OpenAsync(cancellationToken))
        {
            var pauses = await connection.QueryAsync<PauseToCheck>(new CommandDefinition(ToCheck, cancellationToken: cancellationToken));
            foreach (var pause in pauses)
            {
                var late = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountLate, new
                {
                    pause.PauseId, pause.ProgramId, pause.PausedAt, Until = pause.ResumedAt ?? checkedAt,
                }, cancellationToken: cancellationToken));
                var reviewDue = pause.ResumedAt is null && checkedAt - pause.PausedAt > TimeSpan.FromDays(options.ReviewAfterDays);
                counted.Add((pause.PauseId, late, reviewDue));
            }
        }

        await using (var scope = await connections.BeginWriteAsync(cancellationToken))
        {
            foreach (var (pauseId, late, reviewDue) in counted)
                await scope.ExecuteAsync(Insert, new { PauseId = pauseId, CheckedAt = checkedAt, LateRecords = late, ReviewDue = reviewDue });
            await scope.CommitAsync();
        }
        var ids = counted.Select(c => c.PauseId).ToHashSet();
        return (await LatestAsync(int.MaxValue, cancellationToken)).Where(r => ids.Contains(r.PauseId)).ToList();
    }

    /// <summary>
    /// Each checked pause's latest result: alerts first, then active pauses, newest first. A pause not yet
    /// checked (taken since the last run) is not listed.
    /// </summary>
    public async Task<IReadOnlyList<PauseCheckResult>> LatestAsync(int limit = 200, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<PauseCheckResult>(new CommandDefinition(Latest, new { Limit = limit }, cancellationToken: cancellationToken))).AsList();
    }

    private sealed record PauseToCheck
    {
        public long PauseId { get; init; }
        public long ProgramId { get; init; }
        public DateTimeOffset PausedAt { get; init; }
        public DateTimeOffset? ResumedAt { get; init; }
    }
}
