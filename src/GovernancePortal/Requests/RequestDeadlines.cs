using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Requests;

public static class DeadlineFlag
{
    public const string DueSoon = "due_soon";
    public const string Overdue = "overdue";
}

/// <summary>The open requests whose deadline flag is in force: due within <see cref="RequestDeadlines.Warning"/>, and overdue.</summary>
public sealed record DeadlineCounts(long DueSoon, long Overdue);

/// <summary>
/// Flags open requests 7 days before the deadline in force (the extended one when there is one) and
/// again once it has passed. A flag records the deadline it was raised against, so an extension makes
/// it stale at once and the sweep raises a new one when the new deadline comes near. Idempotent: a
/// request already flagged for its deadline is not touched, so two sweeps at once raise each flag once.
/// </summary>
public sealed class RequestDeadlines(ConnectionFactory connections, TimeProvider time)
{
    public static readonly TimeSpan Warning = TimeSpan.FromDays(7);

    private const string Deadline = "COALESCE(r.extended_due_at, r.due_at)";

    private const string NotYetFlagged = $"(COALESCE(r.deadline_flag, '') <> @Flag OR r.deadline_flagged_for IS NULL OR r.deadline_flagged_for <> {Deadline})";

    private const string RaiseOverdue = $"""
        UPDATE requests SET deadline_flag = @Flag, deadline_flagged_at = @Now, deadline_flagged_for = COALESCE(extended_due_at, due_at)
        WHERE id IN (SELECT r.id FROM requests r WHERE r.status IN {RequestStatus.OpenList} AND {Deadline} <= @Now AND {NotYetFlagged})
          AND COALESCE(extended_due_at, due_at) <= @Now
          AND (COALESCE(deadline_flag, '') <> @Flag OR deadline_flagged_for IS NULL OR deadline_flagged_for <> COALESCE(extended_due_at, due_at))
        """;

    private const string RaiseDueSoon = $"""
        UPDATE requests SET deadline_flag = @Flag, deadline_flagged_at = @Now, deadline_flagged_for = COALESCE(extended_due_at, due_at)
        WHERE id IN (SELECT r.id FROM requests r WHERE r.status IN {RequestStatus.OpenList} AND {Deadline} > @Now AND {Deadline} <= @Soon AND {NotYetFlagged})
          AND COALESCE(extended_due_at, due_at) > @Now
          AND (COALESCE(deadline_flag, '') <> @Flag OR deadline_flagged_for IS NULL OR deadline_flagged_for <> COALESCE(extended_due_at, due_at))
        """;

    private const string CountRaised = $"""
        SELECT count(*) FROM requests r
        WHERE r.status IN {RequestStatus.OpenList} AND r.deadline_flag = @Flag AND r.deadline_flagged_for = {Deadline}
        """;

    /// <summary>Raises every flag due now; returns how many of each this run raised.</summary>
    public async Task<DeadlineCounts> RunAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var now = StoredTime.Normalize(time.GetUtcNow());
        var overdue = await scope.ExecuteAsync(RaiseOverdue, new { Flag = DeadlineFlag.Overdue, Now = now });
        var dueSoon = await scope.ExecuteAsync(RaiseDueSoon, new { Flag = DeadlineFlag.DueSoon, Now = now, Soon = now + Warning });
        await scope.CommitAsync();
        return new DeadlineCounts(dueSoon, overdue);
    }

    /// <summary>The open requests whose flag is in force, of each kind (what the officers' home shows).</summary>
    public async Task<DeadlineCounts> CountsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var dueSoon = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountRaised, new { Flag = DeadlineFlag.DueSoon }, cancellationToken: cancellationToken));
        var overdue = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountRaised, new { Flag = DeadlineFlag.Overdue }, cancellationToken: cancellationToken));
        return new DeadlineCounts(dueSoon, overdue);
    }
}
