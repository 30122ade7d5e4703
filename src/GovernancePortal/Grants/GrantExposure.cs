using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;

namespace GovernancePortal.Grants;

/// <summary>An active grant that can read some of a person's records now: who (by role, and by name only when shown), why, which categories, until when.</summary>
public sealed record ReaderNow(string ProgramKey, string ProgramName, string Role, string? Reader, string Purpose, IReadOnlyList<string> Categories, DateTimeOffset EndsAt);

/// <summary>One reader of a program's records in the report's period.</summary>
public sealed record ProgramReader(string Reader, long Reads, long Records, long People, DateTimeOffset LastReadAt);

/// <summary>Reads of a program's records on one UTC day.</summary>
public sealed record ReadDay(DateOnly Day, long Reads, long Records);

/// <summary>Who can read a program now, and who did in the last <see cref="GrantExposure.ReportDays"/> days.</summary>
public sealed record ExposureReport(
    MonitoringProgram Program, IReadOnlyList<GrantSummary> ActiveGrants, long PeopleRead, long RecordsRead,
    IReadOnlyList<ReadDay> PerDay, IReadOnlyList<ProgramReader> Readers, DateTimeOffset Since);

/// <summary>
/// Exposure: for officers, who can read a program and who read it; for an employee, the grants that can read
/// their records now. Both read the grants and the audit log, never a record's content.
/// </summary>
public sealed class GrantExposure(ConnectionFactory connections, ProgramQueries programs, GrantOptions options, TimeProvider time)
{
    public const int ReportDays = 30;

    private const string ActiveWhere = "g.approved_at IS NOT NULL AND g.denied_at IS NULL AND g.revoked_at IS NULL AND g.expires_at > @Now AND g.principal_kind = 'user'";

    private const string ActiveOfProgram = $"{GrantQueries.Columns} WHERE g.program_id = @ProgramId AND {ActiveWhere} ORDER BY g.expires_at, g.id";

    // A grant covers a person's records in a category when they have records there, the category and the program
    // are not paused, and no withdrawal or objection of theirs is in force for it: what a read would show now.
    private const string CoveringMe = $"""
        SELECT g.id AS GrantId, p.key AS ProgramKey, p.name AS ProgramName, g.principal AS Reader, g.purpose AS Purpose, c.key AS CategoryKey, g.expires_at AS EndsAt
        FROM grants g
        JOIN programs p ON p.id = g.program_id
        JOIN grant_categories gc ON gc.grant_id = g.id
        JOIN categories c ON c.id = gc.category_id
        WHERE {ActiveWhere} AND p.state = '{ProgramState.Active}' AND c.paused = @NotPaused AND c.retired_at IS NULL
          AND EXISTS (SELECT 1 FROM records r WHERE r.subject_id = @SubjectId AND r.program_id = g.program_id AND r.category_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM revocations v WHERE v.subject_id = @SubjectId AND v.program_id = g.program_id
                          AND (v.category_id IS NULL OR v.category_id = c.id) AND v.withdrawn_at IS NULL)
        ORDER BY p.name, g.expires_at, g.id, c.key
        """;

    private const string ReadsSince = $"""
        FROM audit_events e
        WHERE e.action = '{AuditActions.RecordsRead}' AND e.program = @Program AND e.occurred_at >= @Since
        """;

    private const string Totals = $"SELECT count(DISTINCT e.subject_id) AS People, CAST(coalesce(sum(e.record_count), 0) AS bigint) AS Records {ReadsSince}";

    private const string ByReader = $"""
        SELECT e.actor AS Reader, count(*) AS Reads, CAST(coalesce(sum(e.record_count), 0) AS bigint) AS Records, count(DISTINCT e.subject_id) AS People, max(e.occurred_at) AS LastReadAt
        {ReadsSince}
        GROUP BY e.actor ORDER BY count(*) DESC, e.actor
        """;

    private static string PerDaySql(SqlDialect dialect) =>
        $"SELECT {dialect.UtcDay("e.occurred_at")} AS Day, count(*) AS Reads, CAST(coalesce(sum(e.record_count), 0) AS bigint) AS Records {ReadsSince} GROUP BY 1 ORDER BY 1";

    /// <summary>The active grants that can read some of the person's records now, by program; readers named only when <c>Grants:ShowReaderNames</c> is on.</summary>
    public async Task<IReadOnlyList<ReaderNow>> WhoCanReadAsync(long subjectId, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<CoveringRow>(new CommandDefinition(CoveringMe,
            new { SubjectId = subjectId, Now = StoredTime.Normalize(time.GetUtcNow()), NotPaused = false }, cancellationToken: cancellationToken));
        return rows.GroupBy(r => r.GrantId)
            .Select(grant =>
            {
                var first = grant.First();
                return new ReaderNow(first.ProgramKey, first.ProgramName, "Data consumer", options.ShowReaderNames ? first.Reader : null, first.Purpose,
                    grant.Select(r => r.CategoryKey).ToList(), first.EndsAt);
            })
            .ToList();
    }

    /// <summary>A program's exposure, for privacy officers: its active grants, and the reads of the last <see cref="ReportDays"/> days.</summary>
    public async Task<ExposureReport> ReportAsync(string programKey, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers see exposure reports.");
        var program = await programs.GetAsync(programKey, cancellationToken) ?? throw new NotFoundProblem($"There is no program '{programKey}'.");
        var now = StoredTime.Normalize(time.GetUtcNow());
        var since = now.AddDays(-ReportDays);
        await using var connection = await connections.OpenAsync(cancellationToken);
        CommandDefinition Command(string sql, object parameters) => new(sql, parameters, cancellationToken: cancellationToken);
        var reads = new { Program = program.Key, Since = since };
        var grants = (await connection.QueryAsync<GrantSummary>(Command(ActiveOfProgram, new { ProgramId = program.Id, Now = now }))).ToList();
        var totals = await connection.QuerySingleAsync<TotalsRow>(Command(Totals, reads));
        var perDay = (await connection.QueryAsync<DayRow>(Command(PerDaySql(connections.Dialect), reads)))
            .Select(d => new ReadDay(DateOnly.FromDayNumber(UnixEpochDay + (int)d.Day), d.Reads, d.Records)).ToList();
        var readers = (await connection.QueryAsync<ReaderRow>(Command(ByReader, reads)))
            .Select(r => new ProgramReader(r.Reader, r.Reads, r.Records, r.People, r.LastReadAt)).ToList();
        return new ExposureReport(program, grants, totals.People, totals.Records, perDay, readers, since);
    }

    private static readonly int UnixEpochDay = new DateOnly(1970, 1, 1).DayNumber;

    private sealed record CoveringRow
    {
        public long GrantId { get; init; }
        public string ProgramKey { get; init; } = "";
        public string ProgramName { get; init; } = "";
        public string Reader { get; init; } = "";
        public string Purpose { get; init; } = "";
        public string CategoryKey { get; init; } = "";
        public DateTimeOffset EndsAt { get; init; }
    }

    private sealed record ReaderRow
    {
        public string Reader { get; init; } = "";
        public long Reads { get; init; }
        public long Records { get; init; }
        public long People { get; init; }
        public DateTimeOffset LastReadAt { get; init; }
    }

    private sealed record TotalsRow
    {
        public long People { get; init; }
        public long Records { get; init; }
    }

    private sealed record DayRow
    {
        public long Day { get; init; }
        public long Reads { get; init; }
        public long Records { get; init; }
    }
}
