using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Retention;

/// <summary>One run of the sweep; <see cref="FinishedAt"/> is null while it runs, or when it stopped half-way.</summary>
public sealed record RetentionRun
{
    public long Id { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public long RecordsDeleted { get; init; }
    public long RecordsHeld { get; init; }
}

/// <summary>
/// A category's standing against its retention now: the age of its oldest record, how many are past
/// the limit and not held (what the next sweep deletes), and how many a legal hold keeps past it.
/// </summary>
public sealed record CategoryCompliance(DataCategory Category, TimeSpan? OldestAge, long Overdue, long Held)
{
    public bool Compliant => Overdue == 0;
}

/// <summary>One program's categories against their retention.</summary>
public sealed record ProgramCompliance(MonitoringProgram Program, IReadOnlyList<CategoryCompliance> Categories);

/// <summary>What privacy officers see of retention: the sweep's run history and each program's compliance.</summary>
public sealed class RetentionQueries(ConnectionFactory connections, ProgramQueries programs, TimeProvider time)
{
    private const string Runs = """
        SELECT id AS Id, started_at AS StartedAt, finished_at AS FinishedAt, records_deleted AS RecordsDeleted, records_held AS RecordsHeld
        FROM retention_runs ORDER BY id DESC LIMIT @Limit OFFSET @Offset
        """;

    private const string Oldest = "SELECT min(captured_at) FROM records WHERE category_id = @CategoryId";

    private const string Expired = $"""
        SELECT count(*) FROM records r WHERE r.category_id = @CategoryId AND r.captured_at <= @Cutoff AND NOT {RetentionSweep.HeldBy}
        """;

    private const string Held = $"""
        SELECT count(*) FROM records r WHERE r.category_id = @CategoryId AND r.captured_at <= @Cutoff AND {RetentionSweep.HeldBy}
        """;

    /// <summary>Runs, newest first.</summary>
    public async Task<IReadOnlyList<RetentionRun>> RunsAsync(int limit, int offset = 0, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<RetentionRun>(new CommandDefinition(Runs, new { Limit = limit, Offset = offset }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Each category of the program, in the register's order; null when there is no such program.</summary>
    public async Task<IReadOnlyList<CategoryCompliance>?> ComplianceAsync(string programKey, CancellationToken cancellationToken = default) =>
        await programs.GetAsync(programKey, cancellationToken) is { } program ? await ComplianceAsync(program, cancellationToken) : null;

    /// <summary>Every program of the register, by name, with its categories' compliance.</summary>
    public async Task<IReadOnlyList<ProgramCompliance>> RegisterComplianceAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<ProgramCompliance>();
        foreach (var program in await programs.ListAsync(cancellationToken))
            result.Add(new ProgramCompliance(program, await ComplianceAsync(program, cancellationToken)));
        return result;
    }

    private async Task<IReadOnlyList<CategoryCompliance>> ComplianceAsync(MonitoringProgram program, CancellationToken cancellationToken)
    {
        var now = StoredTime.Normalize(time.GetUtcNow());
        await using var connection = await connections.OpenAsync(cancellationToken);
        var result = new List<CategoryCompliance>();
        foreach (var category in program.Categories)
        {
            var parameters = new { CategoryId = category.Id, Cutoff = now.AddDays(-category.RetentionDays) };
            var oldest = await connection.ExecuteScalarAsync<DateTimeOffset?>(new CommandDefinition(Oldest, parameters, cancellationToken: cancellationToken));
            var overdue = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Expired, parameters, cancellationToken: cancellationToken));
            var held = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Held, parameters, cancellationToken: cancellationToken));
            result.Add(new CategoryCompliance(category, now - oldest, overdue, held));
        }
        return result;
    }
}
